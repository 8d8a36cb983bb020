"""Native files of source systems for the sample: a few SAP billing documents and Salesforce
tasks and events of the sample's customers, in the latest delivery (`sap/`, `salesforce/`),
next to the extracts. They show the source adapters (ingest/adapters/) at work in the demo:
a foreign currency, a cancellation, a credit memo, a currency without a rate and an activity
type that the mapping does not know are among them.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from orchestration.lib.sample.generator import _customer_id

# OwnerIds that mappings/salesforce.yml names
OWNERS = ("005000000000001AAA", "005000000000002AAA")


def write_native(out: Path, extract_date: date, customers: int) -> dict[str, int]:
    """Write the native files into `<out>/<extract_date>/`, for the sample's first customers
    (of `customers`); returns rows per file (by its name in the delivery)."""
    folder = Path(out) / extract_date.isoformat()
    pick = [_customer_id(1 + i % customers) for i in range(4)]

    def day(back: int, fmt: str = "%Y%m%d") -> str:
        return (extract_date - timedelta(days=back)).strftime(fmt)

    stamp = "101500"
    # VBELN, VBTYP, WAERK, back, KUNAG, FKSTO, SFAKN, AEDAT back
    headers = [
        ("91000001", "M", "EUR", 6, pick[0], "", ""),
        ("91000002", "M", "USD", 5, pick[1], "", ""),
        ("91000003", "M", "EUR", 5, pick[2], "X", ""),
        ("91000004", "N", "EUR", 2, pick[2], "", "91000003"),
        ("91000005", "O", "EUR", 3, pick[3], "", ""),
        ("91000006", "M", "JPY", 2, pick[0], "", ""),
    ]
    vbrk = ["MANDT;VBELN;FKART;VBTYP;WAERK;FKDAT;KUNAG;FKSTO;SFAKN;ERDAT;ERZET;AEDAT"]
    for vbeln, vbtyp, waerk, back, kunag, fksto, sfakn in headers:
        fkart = {"M": "F2", "N": "S1", "O": "G2"}[vbtyp]
        changed = day(2) if fksto else "00000000"
        vbrk.append(f"800;{vbeln};{fkart};{vbtyp};{waerk};{day(back)};{kunag};{fksto};{sfakn};"
                    f"{day(back)};{stamp};{changed}")
    vbrp = ["MANDT;VBELN;POSNR;MATNR;MATKL;FKIMG;NETWR;WAVWR",
            "800;91000001;000010;P-100;PUMPS;4;2400.00;1500.00",
            "800;91000001;000020;V-200;VALVES;10;850.00;510.00",
            "800;91000002;000010;P-100;PUMPS;2;1300.00;800.00",
            "800;91000003;000010;S-300;SPARES;6;420.00;260.00",
            "800;91000004;000010;S-300;SPARES;6;420.00;260.00",
            "800;91000005;000010;P-100;PUMPS;1;600.00;375.00",
            "800;91000006;000010;P-100;PUMPS;1;180000;110000"]
    iso = "%Y-%m-%d"
    sf_stamp = "T09:00:00.000+0000"
    task = ["Id,AccountId,WhatId,Subject,Type,ActivityDate,CallDurationInSeconds,OwnerId,"
            "IsDeleted,LastModifiedDate,SystemModstamp"]
    for number, (customer, subject, kind, seconds, deleted) in enumerate([
        (pick[0], "Hotline: pressure drop", "Call", 1500, "false"),
        (pick[1], "Spare part research", "Research", 2700, "false"),
        (pick[2], "Hotline: duplicate entry", "Call", 300, "true"),
        (pick[3], "Newsletter", "Email", 0, "false"),
    ], start=1):
        task.append(f"00TDEMO{number:08d},{customer},,{subject},{kind},{day(number, iso)},"
                    f"{seconds},{OWNERS[0]},{deleted},{day(number, iso)}{sf_stamp},"
                    f"{day(number, iso)}{sf_stamp}")
    event = ["Id,AccountId,WhatId,Subject,Type,ActivityDate,StartDateTime,EndDateTime,"
             "DurationInMinutes,OwnerId,IsDeleted,LastModifiedDate,SystemModstamp",
             f"00UDEMO00000001,{pick[0]},,Technical workshop,Meeting,{day(3, iso)},"
             f"{day(3, iso)}T08:00:00.000+0000,{day(3, iso)}T10:00:00.000+0000,120,{OWNERS[1]},"
             f"false,{day(3, iso)}{sf_stamp},{day(3, iso)}{sf_stamp}",
             f"00UDEMO00000002,{pick[1]},,Commissioning line 2,Meeting,,"
             f"{day(4, iso)}T07:00:00.000+0000,{day(4, iso)}T12:30:00.000+0000,,{OWNERS[1]},"
             f"false,{day(4, iso)}{sf_stamp},{day(4, iso)}{sf_stamp}"]
    files = {"sap/VBRK.csv": vbrk, "sap/VBRP.csv": vbrp, "salesforce/Task.csv": task,
             "salesforce/Event.csv": event}
    for name, lines in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {name: len(lines) - 1 for name, lines in files.items()}
