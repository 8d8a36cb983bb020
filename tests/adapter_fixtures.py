# ruff: noqa: E501  (the native records below are kept whole, as a system exports them)
"""Native files of Salesforce and SAP billing, written by hand with the vendors' field names,
and the same facts as the three extracts, also written by hand (tests/test_adapters.py).

Two deliveries, D1 and D2. What each record is meant to test stands next to it.

Salesforce (`salesforce/`):
- Account: 001A1 and 001A2 customers; 001A3 deleted (inactive).
- Task: T1 a call of 1800 seconds (30 minutes), re-delivered in D2 with 2400 seconds (40
  minutes) and a later LastModifiedDate; T2 research, related by WhatId only, deleted in D2
  (cancelled); T3 an e-mail no rule maps (unmapped_service_type); T4 a call for an account
  nobody delivered (unknown_customer, held); T5 deleted at once (cancelled).
- Event: E1 a meeting of DurationInMinutes 180; E2 a meeting without DurationInMinutes,
  09:00 to 10:30 UTC (90 minutes).
- Order / OrderItem: O1 activated in EUR, its lines I1 (TotalPrice 1000) and I2 (2 x 250, no
  TotalPrice; deleted in D2, whose OrderItem.csv comes without Order.csv); O2 in USD (I3,
  1000 USD at 0.88 = 880 EUR); O3 a draft (I4 counts 0); O4 in JPY, no rate
  (unknown_currency_rate); I6 of an order nobody delivered (missing_required_field).

SAP (`sap/`):
- KNA1: 0000100001, 0000100002; 0000100003 flagged for deletion (LOEVM X: inactive).
- VBRK / VBRP: 90000001 in EUR (lines 10: 1000 / cost 600, 20: 500 / 200); 90000002 in USD
  (1000 / 500 USD = 880 / 440 EUR), re-delivered in D2 with AEDAT 20261120 and 1100 USD =
  968 EUR; 90000003 cancelled (FKSTO X) and 90000004 its cancellation document (SFAKN): line
  10 of 90000003 counts 0; 90000005 a credit memo (VBTYP O): -100 / -60; 90000006 in JPY, no
  rate; 90000007 for a customer nobody delivered (held); 90000008 an item without header.

Hand-worked values (2026, data through D2), value transfer at the 2026 rates of
standard_cost_rates.csv (time driven: minutes / 60 x hourly rate):
- 001A1: revenue 1000 (I1; I2 deleted, I4 a draft); HOTLINE 40 min x 85.97 / 60 = 57.31,
  TECH_INFO 180 min x 93.14 / 60 = 279.42: value transfer 336.73.
- 001A2: revenue 880; RESEARCH cancelled; TECH_INFO 90 min: 139.71.
- 0000100001: revenue 1500, cost 800; no service.
- 0000100002: revenue 968 - 100 = 868, cost 440 - 60 = 380; no service.
Medians: revenue (880 + 1000) / 2 = 940, value transfer (0 + 139.71) / 2 = 69.855. So:
001A1 high/high invest; 001A2 low/high renegotiate; 0000100001 high/low develop;
0000100002 low/low opportunistic.
"""

from __future__ import annotations

from pathlib import Path

D1, D2 = "2026-11-20", "2026-11-27"
U1, U2 = "005000000000001AAA", "005000000000002AAA"  # owners named in mappings/salesforce.yml

NATIVE = {
    D1: {
        "salesforce/Account.csv": f"""\
Id,Name,Type,Industry,BillingCountryCode,BillingState,OwnerId,CreatedDate,IsDeleted,LastModifiedDate,SystemModstamp
001A1,Acme GmbH,Customer - Direct,Machinery,DE,BY,{U1},2019-03-01T08:00:00.000+0000,false,2026-11-01T10:00:00.000+0000,2026-11-01T10:00:00.000+0000
001A2,Beta AG,Customer - Channel,Chemicals,DE,NW,{U2},2021-05-10T12:00:00.000+0000,false,2026-11-02T10:00:00.000+0000,2026-11-02T10:00:00.000+0000
001A3,Gamma Ltd,Prospect,Food,GB,,{U1},2020-01-15T09:00:00.000+0000,true,2026-11-03T10:00:00.000+0000,2026-11-03T10:00:00.000+0000
""",
        "salesforce/Task.csv": f"""\
Id,AccountId,WhatId,Subject,Type,ActivityDate,CallDurationInSeconds,OwnerId,IsDeleted,LastModifiedDate,SystemModstamp
00T1,001A1,,Hotline: pump noise,Call,2026-11-02,1800,{U1},false,2026-11-02T09:00:00.000+0000,2026-11-02T09:00:00.000+0000
00T2,,001A2,Spare part research,Research,2026-11-03,2700,{U1},false,2026-11-03T09:00:00.000+0000,2026-11-03T09:00:00.000+0000
00T3,001A1,,Newsletter,Email,2026-11-04,0,{U1},false,2026-11-04T09:00:00.000+0000,2026-11-04T09:00:00.000+0000
00T4,001ZZ,,Hotline: valve,Call,2026-11-05,600,{U1},false,2026-11-05T09:00:00.000+0000,2026-11-05T09:00:00.000+0000
00T5,001A1,,Hotline: wrong number,Call,2026-11-06,1200,{U1},true,2026-11-06T09:00:00.000+0000,2026-11-06T09:00:00.000+0000
""",
        "salesforce/Event.csv": f"""\
Id,AccountId,WhatId,Subject,Type,ActivityDate,StartDateTime,EndDateTime,DurationInMinutes,OwnerId,IsDeleted,LastModifiedDate,SystemModstamp
00U1,001A1,,Technical workshop,Meeting,2026-11-05,2026-11-05T08:00:00.000+0000,2026-11-05T11:00:00.000+0000,180,{U2},false,2026-11-05T12:00:00.000+0000,2026-11-05T12:00:00.000+0000
00U2,001A2,,Site visit,Meeting,,2026-11-06T09:00:00.000+0000,2026-11-06T10:30:00.000+0000,,{U2},false,2026-11-06T12:00:00.000+0000,2026-11-06T12:00:00.000+0000
""",
        "salesforce/Order.csv": """\
Id,AccountId,OrderNumber,EffectiveDate,Status,CurrencyIsoCode,IsDeleted,LastModifiedDate,SystemModstamp
801O1,001A1,00000101,2026-11-04,Activated,EUR,false,2026-11-04T10:00:00.000+0000,2026-11-04T10:00:00.000+0000
801O2,001A2,00000102,2026-11-06,Activated,USD,false,2026-11-06T10:00:00.000+0000,2026-11-06T10:00:00.000+0000
801O3,001A1,00000103,2026-11-07,Draft,EUR,false,2026-11-07T10:00:00.000+0000,2026-11-07T10:00:00.000+0000
801O4,001A2,00000104,2026-11-08,Activated,JPY,false,2026-11-08T10:00:00.000+0000,2026-11-08T10:00:00.000+0000
""",
        "salesforce/OrderItem.csv": """\
Id,OrderId,OrderItemNumber,Product2Id,Quantity,UnitPrice,TotalPrice,IsDeleted,LastModifiedDate,SystemModstamp
802I1,801O1,0000000001,01tP1,10,100,1000.00,false,2026-11-04T10:00:00.000+0000,2026-11-04T10:00:00.000+0000
802I2,801O1,0000000002,01tP2,2,250,,false,2026-11-04T10:00:00.000+0000,2026-11-04T10:00:00.000+0000
802I3,801O2,0000000003,01tP1,5,200,1000.00,false,2026-11-06T10:00:00.000+0000,2026-11-06T10:00:00.000+0000
802I4,801O3,0000000004,01tP1,3,100,300.00,false,2026-11-07T10:00:00.000+0000,2026-11-07T10:00:00.000+0000
802I5,801O4,0000000005,01tP1,1,10000,10000,false,2026-11-08T10:00:00.000+0000,2026-11-08T10:00:00.000+0000
802I6,801O9,0000000006,01tP1,1,50,50.00,false,2026-11-09T10:00:00.000+0000,2026-11-09T10:00:00.000+0000
""",
        "sap/KNA1.csv": """\
MANDT;KUNNR;NAME1;NAME2;LAND1;REGIO;BRSCH;ERDAT;LOEVM
800;0000100001;Delta Maschinenbau;GmbH;DE;09;MASC;20180312;
800;0000100002;Epsilon Foods;;AT;;FOOD;20200115;
800;0000100003;Zeta alt;;DE;;;20150101;X
""",
        "sap/VBRK.csv": """\
MANDT;VBELN;FKART;VBTYP;WAERK;FKDAT;KUNAG;NETWR;FKSTO;SFAKN;ERDAT;ERZET;AEDAT
800;90000001;F2;M;EUR;20261103;0000100001;1500.00;;;20261103;101500;00000000
800;90000002;F2;M;USD;20261105;0000100002;1000.00;;;20261105;101500;00000000
800;90000003;F2;M;EUR;20261106;0000100001;400.00;X;;20261106;101500;20261110
800;90000004;S1;N;EUR;20261110;0000100001;400.00;;90000003;20261110;093000;00000000
800;90000005;G2;O;EUR;20261112;0000100002;100.00;;;20261112;101500;00000000
800;90000006;F2;M;JPY;20261113;0000100002;50000;;;20261113;101500;00000000
800;90000007;F2;M;EUR;20261114;0000999999;300.00;;;20261114;101500;00000000
""",
        "sap/VBRP.csv": """\
MANDT;VBELN;POSNR;MATNR;MATKL;FKIMG;NETWR;WAVWR
800;90000001;000010;M-1;PUMPS;10;1000.00;600.00
800;90000001;000020;M-2;VALVES;5;500.00;200.00
800;90000002;000010;M-1;PUMPS;4;1000.00;500.00
800;90000003;000010;M-3;PUMPS;1;400.00;250.00
800;90000004;000010;M-3;PUMPS;1;400.00;250.00
800;90000005;000010;M-1;PUMPS;1;100.00;60.00
800;90000006;000010;M-1;PUMPS;1;50000;30000
800;90000007;000010;M-1;PUMPS;1;300.00;100.00
800;90000008;000010;M-1;PUMPS;1;70.00;10.00
""",
    },
    D2: {
        "salesforce/Task.csv": f"""\
Id,AccountId,WhatId,Subject,Type,ActivityDate,CallDurationInSeconds,OwnerId,IsDeleted,LastModifiedDate,SystemModstamp
00T1,001A1,,Hotline: pump noise,Call,2026-11-02,2400,{U1},false,2026-11-21T09:00:00.000+0000,2026-11-21T09:00:00.000+0000
00T2,,001A2,Spare part research,Research,2026-11-03,2700,{U1},true,2026-11-22T09:00:00.000+0000,2026-11-22T09:00:00.000+0000
""",
        "salesforce/OrderItem.csv": """\
Id,OrderId,OrderItemNumber,Product2Id,Quantity,UnitPrice,TotalPrice,IsDeleted,LastModifiedDate,SystemModstamp
802I2,801O1,0000000002,01tP2,2,250,,true,2026-11-23T10:00:00.000+0000,2026-11-23T10:00:00.000+0000
""",
        "sap/VBRK.csv": """\
MANDT;VBELN;FKART;VBTYP;WAERK;FKDAT;KUNAG;NETWR;FKSTO;SFAKN;ERDAT;ERZET;AEDAT
800;90000002;F2;M;USD;20261105;0000100002;1100.00;;;20261105;101500;20261120
""",
        "sap/VBRP.csv": """\
MANDT;VBELN;POSNR;MATNR;MATKL;FKIMG;NETWR;WAVWR
800;90000002;000010;M-1;PUMPS;4;1100.00;500.00
""",
    },
}

# The same facts as the extracts, worked out by hand from the records above (not by the
# adapters): what a team would write to the extracts' columns themselves.
GENERIC = {
    D1: {
        "customers": """\
customer_id,customer_name,industry,region,account_manager,country_code,customer_since,status
001A1,Acme GmbH,Machinery,BY,E-INSIDE-1,DE,2019-03-01,active
001A2,Beta AG,Chemicals,NW,E-FIELD-1,DE,2021-05-10,active
001A3,Gamma Ltd,Food,,E-INSIDE-1,GB,2020-01-15,inactive
0000100001,Delta Maschinenbau GmbH,MASC,09,,DE,2018-03-12,active
0000100002,Epsilon Foods,FOOD,,,AT,2020-01-15,active
0000100003,Zeta alt,,,,DE,2015-01-01,inactive
""",
        "orders": """\
order_id,line_no,customer_id,order_date,product_group,net_revenue_eur,cost_of_goods_eur,updated_at
00000101,1,001A1,2026-11-04,,1000.00,,2026-11-04T10:00:00+00:00
00000101,2,001A1,2026-11-04,,500.00,,2026-11-04T10:00:00+00:00
00000102,3,001A2,2026-11-06,,880.00,,2026-11-06T10:00:00+00:00
00000103,4,001A1,2026-11-07,,0.00,0.00,2026-11-07T10:00:00+00:00
90000001,10,0000100001,2026-11-03,PUMPS,1000.00,600.00,2026-11-03T10:15:00
90000001,20,0000100001,2026-11-03,VALVES,500.00,200.00,2026-11-03T10:15:00
90000002,10,0000100002,2026-11-05,PUMPS,880.00,440.00,2026-11-05T10:15:00
90000003,10,0000100001,2026-11-06,PUMPS,0.00,0.00,2026-11-10T00:00:00
90000003,10,0000100001,2026-11-06,PUMPS,0.00,0.00,2026-11-10T09:30:00
90000005,10,0000100002,2026-11-12,PUMPS,-100.00,-60.00,2026-11-12T10:15:00
""",
        "service_activities": """\
activity_id,customer_id,service_type_code,activity_date,duration_minutes,employee_id,department,status,updated_at
00T1,001A1,HOTLINE,2026-11-02,30,E-INSIDE-1,inside_sales,done,2026-11-02T09:00:00+00:00
00T2,001A2,RESEARCH,2026-11-03,45,E-INSIDE-1,inside_sales,done,2026-11-03T09:00:00+00:00
00T5,001A1,HOTLINE,2026-11-06,20,E-INSIDE-1,inside_sales,cancelled,2026-11-06T09:00:00+00:00
00U1,001A1,TECH_INFO,2026-11-05,180,E-FIELD-1,field_service,done,2026-11-05T12:00:00+00:00
00U2,001A2,TECH_INFO,2026-11-06,90,E-FIELD-1,field_service,done,2026-11-06T12:00:00+00:00
""",
    },
    D2: {
        "orders": """\
order_id,line_no,customer_id,order_date,product_group,net_revenue_eur,cost_of_goods_eur,updated_at
00000101,2,001A1,2026-11-04,,0.00,0.00,2026-11-23T10:00:00+00:00
90000002,10,0000100002,2026-11-05,PUMPS,968.00,440.00,2026-11-20T00:00:00
""",
        "service_activities": """\
activity_id,customer_id,service_type_code,activity_date,duration_minutes,employee_id,department,status,updated_at
00T1,001A1,HOTLINE,2026-11-02,40,E-INSIDE-1,inside_sales,done,2026-11-21T09:00:00+00:00
00T2,001A2,RESEARCH,2026-11-03,45,E-INSIDE-1,inside_sales,cancelled,2026-11-22T09:00:00+00:00
""",
    },
}

# value transfer per customer and segment, worked out by hand (the module docstring)
EXPECTED = {
    "001A1": (1000.00, 336.73, "invest"),
    "001A2": (880.00, 139.71, "renegotiate"),
    "0000100001": (1500.00, 0.00, "develop"),
    "0000100002": (868.00, 0.00, "opportunistic"),
}


def write_native(landing: Path, dates=(D1, D2)) -> Path:
    for date in dates:
        for name, text in NATIVE[date].items():
            path = landing / date / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return landing


def write_generic(landing: Path, dates=(D1, D2)) -> Path:
    for date in dates:
        for entity, text in GENERIC[date].items():
            path = landing / date / f"{entity}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return landing

# HubSpot (`hubspot/`, the tables a connector lands), delivery D1:
# - company: 501; 502 created at 1577872800000 ms (2020-01-01 10:00 UTC), a lead (prospect),
#   its country free text (not taken); 503 deleted (inactive).
# - engagement: 7001 a call of 1,800,000 ms (30 minutes); 7002 a meeting stamped in ms, 09:00
#   to 10:15 UTC (75 minutes); 7003 an e-mail no rule maps (unmapped_service_type); 7004 a
#   task "Order change" (ORDER_CHANGE, 0 minutes by fixed_minutes); 7005 a call no longer
#   active (cancelled); 7006 a call of a company nobody delivered (unknown_customer).
# - line_item: 8001 of closed-won deal 9001, 1000 EUR, cost 2 x 300; 8002 of deal 9002 in
#   CHF, 10 x 20 = 200 CHF at 1.07 = 214 EUR; 8003 of a deal not won (0); 8004 of no deal
#   (missing_required_field).
HUBSPOT = {
    "hubspot/company.csv": """\
id,property_name,property_industry,property_country,property_state,property_createdate,property_lifecyclestage,is_deleted,property_hs_lastmodifieddate
501,Theta AG,MACHINERY,DE,BY,2019-04-01T08:00:00Z,customer,false,2026-11-01T10:00:00Z
502,Iota GmbH,FOOD,Germany,,1577872800000,lead,false,2026-11-02T10:00:00Z
503,Kappa SA,,FR,,2018-01-01T00:00:00Z,customer,true,2026-11-03T10:00:00Z
""",
    "hubspot/engagement.csv": """\
id,type,timestamp,owner_id,active,last_updated
7001,CALL,2026-11-02T09:00:00Z,,true,2026-11-02T09:30:00Z
7002,MEETING,1793869200000,,true,2026-11-05T11:00:00Z
7003,EMAIL,2026-11-04T09:00:00Z,,true,2026-11-04T09:30:00Z
7004,TASK,2026-11-05T09:00:00Z,,true,2026-11-05T09:30:00Z
7005,CALL,2026-11-06T09:00:00Z,,false,2026-11-06T09:30:00Z
7006,CALL,2026-11-06T10:00:00Z,,true,2026-11-06T10:30:00Z
""",
    "hubspot/engagement_company.csv": """\
engagement_id,company_id
7001,501
7002,502
7003,501
7004,501
7005,501
7006,599
""",
    "hubspot/engagement_call.csv": """\
engagement_id,property_hs_call_duration,property_hs_call_title
7001,1800000,Pump noise
7005,600000,Wrong number
7006,300000,Valve
""",
    "hubspot/engagement_meeting.csv": """\
engagement_id,property_hs_meeting_title,property_hs_meeting_start_time,property_hs_meeting_end_time
7002,Site visit,2026-11-05T09:00:00Z,2026-11-05T10:15:00Z
""",
    "hubspot/engagement_task.csv": """\
engagement_id,property_hs_task_subject
7004,Order change PO 4711
""",
    "hubspot/deal.csv": """\
deal_id,property_dealname,deal_pipeline_stage_id,property_closedate,property_deal_currency_code,is_deleted,property_hs_lastmodifieddate
9001,Pumps,closedwon,2026-11-03,EUR,false,2026-11-03T12:00:00Z
9002,Spares,closedwon,2026-11-04,CHF,false,2026-11-04T12:00:00Z
9003,Consulting,appointmentscheduled,2026-11-10,EUR,false,2026-11-10T12:00:00Z
""",
    "hubspot/deal_company.csv": """\
deal_id,company_id
9001,501
9002,502
9003,501
""",
    "hubspot/line_item.csv": """\
id,property_name,property_hs_product_id,property_quantity,property_price,property_amount,property_hs_cost_of_goods_sold,is_deleted,property_hs_lastmodifieddate
8001,Pump,P1,2,500,1000.00,300,false,2026-11-03T12:00:00Z
8002,Spare,P2,10,20,,,false,2026-11-04T12:00:00Z
8003,Consulting,P3,1,400,400.00,,false,2026-11-10T12:00:00Z
8004,Orphan,P1,1,10,10.00,,false,2026-11-11T12:00:00Z
""",
    "hubspot/line_item_deal.csv": """\
line_item_id,deal_id
8001,9001
8002,9002
8003,9003
""",
}

# the same facts as extracts, by hand
HUBSPOT_GENERIC = {
    "customers": """\
customer_id,customer_name,industry,region,country_code,customer_since,status,updated_at
501,Theta AG,MACHINERY,BY,DE,2019-04-01,active,2026-11-01T10:00:00+00:00
502,Iota GmbH,FOOD,,,2020-01-01,prospect,2026-11-02T10:00:00+00:00
503,Kappa SA,,,FR,2018-01-01,inactive,2026-11-03T10:00:00+00:00
""",
    "orders": """\
order_id,line_no,customer_id,order_date,product_group,net_revenue_eur,cost_of_goods_eur,updated_at
9001-8001,1,501,2026-11-03,P1,1000.00,600.00,2026-11-03T12:00:00+00:00
9002-8002,1,502,2026-11-04,P2,214.00,,2026-11-04T12:00:00+00:00
9003-8003,1,501,2026-11-10,P3,0.00,0.00,2026-11-10T12:00:00+00:00
""",
    "service_activities": """\
activity_id,customer_id,service_type_code,activity_date,duration_minutes,channel,description,status,updated_at
7001,501,HOTLINE,2026-11-02,30,call,Pump noise,done,2026-11-02T09:30:00+00:00
7002,502,TECH_INFO,2026-11-05,75,meeting,Site visit,done,2026-11-05T11:00:00+00:00
7004,501,ORDER_CHANGE,2026-11-05,0,task,Order change PO 4711,done,2026-11-05T09:30:00+00:00
7005,501,HOTLINE,2026-11-06,10,call,Wrong number,cancelled,2026-11-06T09:30:00+00:00
""",
}

# Dynamics 365 (`dynamics/`), delivery D1:
# - account: A-1; A-2 inactive (statecode 1).
# - activitypointer: P1 a phone call of 25 minutes; P2 a billed appointment (isbilled true ->
#   FIELD_SERVICE) of 90 minutes; P3 an e-mail no rule maps; P4 a canceled phone call
#   (statecode 2); P5 a phone call regarding a contact, not an account (missing customer).
# - invoicedetail: L1 of invoice INV-1 in EUR, 3 x 100; L2 of INV-2 in USD, baseamount 500 less
#   a discount of 50 = 450 USD at 0.88 = 396 EUR; L3 of canceled INV-3 (0).
DYNAMICS = {
    "dynamics/account.csv": """\
accountid,name,industrycode,address1_country,address1_stateorprovince,createdon,statecode,modifiedon
A-1,Lambda AG,7,DE,HE,2019-02-01T08:00:00Z,0,2026-11-01T10:00:00Z
A-2,My GmbH,3,DE,,2020-06-01T08:00:00Z,1,2026-11-02T10:00:00Z
""",
    "dynamics/activitypointer.csv": """\
activityid,activitytypecode,regardingobjectid,regardingobjecttypecode,subject,actualstart,actualend,actualdurationminutes,isbilled,statecode,ownerid,modifiedon
P1,phonecall,A-1,account,Pump noise,2026-11-02T09:00:00Z,2026-11-02T09:25:00Z,25,false,1,,2026-11-02T09:30:00Z
P2,appointment,A-1,account,Repair on site,2026-11-03T08:00:00Z,2026-11-03T09:30:00Z,90,true,1,,2026-11-03T10:00:00Z
P3,email,A-1,account,Newsletter,2026-11-04T08:00:00Z,2026-11-04T08:00:00Z,0,false,1,,2026-11-04T10:00:00Z
P4,phonecall,A-2,account,Wrong number,2026-11-05T08:00:00Z,2026-11-05T08:05:00Z,5,false,2,,2026-11-05T10:00:00Z
P5,phonecall,C-9,contact,Private call,2026-11-06T08:00:00Z,2026-11-06T08:10:00Z,10,false,1,,2026-11-06T10:00:00Z
""",
    "dynamics/transactioncurrency.csv": """\
transactioncurrencyid,isocurrencycode
T-EUR,EUR
T-USD,USD
""",
    "dynamics/invoice.csv": """\
invoiceid,invoicenumber,customerid,transactioncurrencyid,datedelivered,createdon,statecode,modifiedon
I-1,INV-1,A-1,T-EUR,2026-11-03,2026-11-03T08:00:00Z,2,2026-11-03T12:00:00Z
I-2,INV-2,A-2,T-USD,2026-11-04,2026-11-04T08:00:00Z,0,2026-11-04T12:00:00Z
I-3,INV-3,A-1,T-EUR,2026-11-05,2026-11-05T08:00:00Z,3,2026-11-06T12:00:00Z
""",
    "dynamics/invoicedetail.csv": """\
invoicedetailid,invoiceid,lineitemnumber,productid,quantity,priceperunit,baseamount,manualdiscountamount,modifiedon
L1,I-1,1,PR-1,3,100,,,2026-11-03T12:00:00Z
L2,I-2,1,PR-2,5,100,500,50,2026-11-04T12:00:00Z
L3,I-3,1,PR-1,1,80,80,,2026-11-05T12:00:00Z
""",
}

DYNAMICS_GENERIC = {
    "customers": """\
customer_id,customer_name,industry,region,country_code,customer_since,status,updated_at
A-1,Lambda AG,7,HE,DE,2019-02-01,active,2026-11-01T10:00:00+00:00
A-2,My GmbH,3,,DE,2020-06-01,inactive,2026-11-02T10:00:00+00:00
""",
    "orders": """\
order_id,line_no,customer_id,order_date,product_group,net_revenue_eur,cost_of_goods_eur,updated_at
INV-1,1,A-1,2026-11-03,PR-1,300.00,,2026-11-03T12:00:00+00:00
INV-2,1,A-2,2026-11-04,PR-2,396.00,,2026-11-04T12:00:00+00:00
INV-3,1,A-1,2026-11-05,PR-1,0.00,0.00,2026-11-06T12:00:00+00:00
""",
    "service_activities": """\
activity_id,customer_id,service_type_code,activity_date,duration_minutes,channel,description,status,updated_at
P1,A-1,HOTLINE,2026-11-02,25,phonecall,Pump noise,done,2026-11-02T09:30:00+00:00
P2,A-1,FIELD_SERVICE,2026-11-03,90,appointment,Repair on site,done,2026-11-03T10:00:00+00:00
P4,A-2,HOTLINE,2026-11-05,5,phonecall,Wrong number,cancelled,2026-11-05T10:00:00+00:00
""",
}

# Zendesk (`zendesk/`), delivery D1, time spent in field 360000000001 (mappings/zendesk.yml):
# - organization: 61; 62 deleted (inactive).
# - ticket: 1001 hotline form, time spent 600 s, then 900 s (latest: 15 minutes); 1002 a
#   question (TECH_INFO) without time spent (0 minutes); 1003 a form no rule maps; 1004 deleted
#   (cancelled), 120 s (2 minutes).
ZENDESK = {
    "zendesk/organization.csv": """\
id,name,created_at,updated_at,deleted_at
61,Nu AG,2019-05-01T08:00:00Z,2026-11-01T10:00:00Z,
62,Xi GmbH,2020-05-01T08:00:00Z,2026-11-02T10:00:00Z,2026-11-02T10:00:00Z
""",
    "zendesk/ticket.csv": """\
id,organization_id,subject,type,ticket_form_id,via_channel,status,assignee_id,created_at,updated_at
1001,61,Pump noise,incident,360000000101,phone,solved,,2026-11-02T09:00:00Z,2026-11-02T11:00:00Z
1002,61,How to calibrate,question,360000000100,email,solved,,2026-11-03T09:00:00Z,2026-11-03T11:00:00Z
1003,61,Spam,incident,360000000999,email,closed,,2026-11-04T09:00:00Z,2026-11-04T11:00:00Z
1004,62,Duplicate,incident,360000000101,web,deleted,,2026-11-05T09:00:00Z,2026-11-05T11:00:00Z
""",
    "zendesk/ticket_field_history.csv": """\
ticket_id,field_name,updated,value,user_id
1001,360000000001,2026-11-02T09:30:00Z,600,7
1001,360000000001,2026-11-02T10:30:00Z,900,7
1001,status,2026-11-02T11:00:00Z,solved,7
1004,360000000001,2026-11-05T09:30:00Z,120,7
""",
}

ZENDESK_GENERIC = {
    "customers": """\
customer_id,customer_name,customer_since,status,updated_at
61,Nu AG,2019-05-01,active,2026-11-01T10:00:00+00:00
62,Xi GmbH,2020-05-01,inactive,2026-11-02T10:00:00+00:00
""",
    "service_activities": """\
activity_id,customer_id,service_type_code,activity_date,duration_minutes,channel,description,status,updated_at
1001,61,HOTLINE,2026-11-02,15,phone,Pump noise,done,2026-11-02T11:00:00+00:00
1002,61,TECH_INFO,2026-11-03,0,email,How to calibrate,done,2026-11-03T11:00:00+00:00
1004,62,HOTLINE,2026-11-05,2,web,Duplicate,cancelled,2026-11-05T11:00:00+00:00
""",
}
