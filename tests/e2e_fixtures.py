# ruff: noqa: E501  (the CSV rows below are kept whole, as a delivery would have them)
"""Three small deliveries whose mart values are worked out by hand in test_end_to_end.py.

- 2026-11-20 (UTF-8): four customers (C1 with a potential of 40 million, large enough to
  overflow careless DECIMAL(18, x) arithmetic), nine order lines, eleven activities. Customer C5 is in no
  snapshot yet, so its order line O8/1 and activity A11 are rejected as unknown_customer.
- 2026-11-21 (German export, cp1252): the same customers (umlauts), a correction of order line
  O6/1, an order line with a bad number, a correction of activity A6 and the cancellation of A5.
- 2026-11-22 (UTF-8): a customers snapshot that brings C5, which releases O8/1 and A11.
"""

from __future__ import annotations

from pathlib import Path

D1, D2, D3 = "2026-11-20", "2026-11-21", "2026-11-22"

CUSTOMERS_D1 = """customer_id,customer_name,industry,region,account_manager,country_code,customer_since,annual_potential_eur,status,updated_at
C1,Alpha Maschinenbau GmbH,machinery,North,AM01,DE,2015-03-01,40000000.00,active,2026-11-19T08:00:00
C2,Beta Anlagen AG,plant engineering,South,AM02,DE,2018-06-01,100000.00,,2026-11-19T08:00:00
C3,Gamma Mueller KG,food,West,AM01,AT,2019-01-01,40000.00,active,2026-11-19T08:00:00
C4,Delta Neu GmbH,chemicals,East,AM03,DE,2026-06-01,800000.00,active,2026-11-19T08:00:00
"""

ORDERS_D1 = """order_id,line_no,customer_id,order_date,product_group,net_revenue_eur,cost_of_goods_eur,updated_at
O1,1,C1,2025-03-10,pumps,100000.00,60000.00,2025-03-10T10:00:00
O2,1,C2,2025-05-05,valves,30000.00,20000.00,2025-05-05T10:00:00
O3,1,C3,2025-07-01,pumps,10000.00,8000.00,2025-07-01T10:00:00
O4,1,C1,2026-02-01,pumps,120000.00,70000.00,2026-02-01T10:00:00
O5,1,C2,2026-03-01,valves,15000.00,9000.00,2026-03-01T10:00:00
O6,1,C3,2026-04-01,pumps,20000.00,15000.00,2026-04-01T10:00:00
O7,1,C4,2026-07-01,sensors,5000.00,3000.00,2026-07-01T10:00:00
O8,1,C5,2026-10-01,sensors,2000.00,1000.00,2026-10-01T10:00:00
O9,1,C3,2026-05-01,pumps,-1000.00,,2026-05-01T10:00:00
"""

ACTIVITIES_D1 = """activity_id,customer_id,service_type_code,activity_date,duration_minutes,participants,employee_id,department,channel,billed_amount_eur,description,status,updated_at
A1,C2,HOTLINE,2025-02-10,30,,E01,service,phone,0,Pump alarm explained,done,2025-02-10T09:00:00
A2,C3,TRAINING,2025-09-15,480,6,E02,academy,on site,0,Operator training,done,2025-09-15T09:00:00
A3,C1,REPAIR,2025-04-01,120,,E03,service,on site,300.00,Seal replaced,done,2025-04-01T09:00:00
A4,C1,COMMISSIONING,2026-01-01,240,,E03,service,on site,0,New line commissioned,done,2026-01-01T09:00:00
A5,C2,JOINT_DEVELOPMENT,2026-03-10,960,,E04,R&D,on site,0,Joint prototype,done,2026-03-10T09:00:00
A6,C2,HOTLINE,2026-03-11,45,,E01,service,phone,0,Callback,done,2026-03-11T09:00:00
A7,C3,REPAIR,2026-04-02,90,,E03,service,on site,0,Goodwill repair,done,2026-04-02T09:00:00
A8,C3,TRAINING,2026-05-05,240,3,E02,academy,remote,200.00,Refresher course,,2026-05-05T09:00:00
A9,C4,COMMISSIONING,2026-07-02,480,,E03,service,on site,0,First plant started,done,2026-07-02T09:00:00
A10,C1,REPAIR,2026-06-01,60,,E03,service,on site,163.58,Valve repair,done,2026-06-01T09:00:00
A11,C5,HOTLINE,2026-10-02,20,,E01,service,phone,0,First call,done,2026-10-02T09:00:00
"""

# German export: ';', decimal ',', thousands '.', dd.mm.yyyy, cp1252 (umlauts, € = 0x80)
CUSTOMERS_D2 = """customer_id;customer_name;industry;region;account_manager;country_code;customer_since;annual_potential_eur;status;updated_at
C1;Alpha Maschinenbau GmbH;machinery;North;AM01;DE;01.03.2015;40.000.000,00;active;20.11.2026 08:00:00
C2;Beta Anlagen AG;plant engineering;Süd;AM02;DE;01.06.2018;100.000,00;;20.11.2026 08:00:00
C3;Gamma Müller & Söhne KG;food;West;AM01;AT;01.01.2019;40.000,00;active;20.11.2026 08:00:00
C4;Delta Neu GmbH;chemicals;East;AM03;DE;01.06.2026;800.000,00;active;20.11.2026 08:00:00
"""

ORDERS_D2 = """order_id;line_no;customer_id;order_date;product_group;net_revenue_eur;cost_of_goods_eur;updated_at
O6;1;C3;01.04.2026;pumps;12.000,00;9.000,00;20.11.2026 12:00:00
O11;1;C1;15.08.2026;pumps;12,3x;0;20.11.2026 12:00:00
"""

ACTIVITIES_D2 = """activity_id;customer_id;service_type_code;activity_date;duration_minutes;participants;employee_id;department;channel;billed_amount_eur;description;status;updated_at
A5;C2;JOINT_DEVELOPMENT;10.03.2026;960;;E04;R&D;on site;0;Joint prototype;cancelled;20.11.2026 12:00:00
A6;C2;HOTLINE;11.03.2026;60;;E01;service;phone;0;Rückruf wegen Störung, Angebot über 1.200 € geprüft;done;20.11.2026 12:00:00
"""

CUSTOMERS_D3 = CUSTOMERS_D1 + (
    "C5,Epsilon Start-up GmbH,energy,North,AM02,DE,2026-09-01,20000.00,active,"
    "2026-11-21T08:00:00\n"
)


def write_delivery(landing: Path, folder: str) -> Path:
    """Write one of the three deliveries under ``landing`` and return its folder."""
    files = {
        D1: {"customers.csv": (CUSTOMERS_D1, "utf-8-sig"), "orders.csv": (ORDERS_D1, "utf-8"),
             "service_activities.csv": (ACTIVITIES_D1, "utf-8")},
        D2: {"customers.csv": (CUSTOMERS_D2, "cp1252"), "orders.csv": (ORDERS_D2, "cp1252"),
             "service_activities.csv": (ACTIVITIES_D2, "cp1252")},
        D3: {"customers.csv": (CUSTOMERS_D3, "utf-8")},
    }[folder]
    path = landing / folder
    path.mkdir(parents=True, exist_ok=True)
    for name, (text, encoding) in files.items():
        (path / name).write_bytes(text.encode(encoding))
    return path
