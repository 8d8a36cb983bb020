"""Everything that depends on the reader's language: the chrome texts and number formats.

Only the surfaces' own words (headings, column titles, hints; the export's sheet names,
headings and items) and formats (numbers, dates, the export's Excel formats and CSV dialects)
live here, and every choice by language is made here. Names of services, segment labels and
strategies come from the warehouse (`marts.dim_service_types`, `reference.segments`) and are
never written down a second time; `in_language` picks the one of the reader's language.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
_LOCALES = {"de": "de_DE", "en": "en_GB"}
_DATE_PATTERNS = {"de": "dd.MM.yyyy", "en": "d MMM yyyy"}

TEXTS: dict[str, dict[str, str]] = {
    # ---- the cockpit: sign-in, and who is signed in
    "signin_title": {"de": "Anmelden", "en": "Sign in"},
    "signin_username": {"de": "Benutzername", "en": "User name"},
    "signin_password": {"de": "Passwort", "en": "Password"},
    "signin_submit": {"de": "Anmelden", "en": "Sign in"},
    "signin_failed": {"de": "Anmeldung fehlgeschlagen: Name oder Passwort ist falsch.",
                      "en": "Sign-in failed: the name or the password is wrong."},
    "signin_oidc": {"de": "Mit dem Firmenkonto anmelden",
                    "en": "Sign in with the company account"},
    "signin_signed_out": {"de": "Abgemeldet.", "en": "Signed out."},
    "signin_logout": {"de": "Abmelden", "en": "Sign out"},
    "signin_nobody": {"de": "Niemand angemeldet: alle Kunden sichtbar (nur auf diesem Rechner)",
                      "en": "Nobody is signed in: every customer is shown (this machine only)"},
    "signin_signed_in_as": {"de": "Angemeldet: {name} ({role})",
                            "en": "Signed in: {name} ({role})"},
    "signin_scope_managers": {
        "de": "Sie sehen nur die Kunden von {what}; alle Anzahlen und Summen gelten nur für "
              "diese Kunden.",
        "en": "You see only the customers of {what}; every count and total covers these "
              "customers only."},
    "signin_scope_region": {"de": "Region {region}", "en": "region {region}"},
    "signin_scope_manager": {"de": "Kundenbetreuer {managers}",
                             "en": "account manager {managers}"},
    # ---- the cockpit: frame and navigation
    "app_title": {"de": "Kundenwert-Cockpit", "en": "Customer-value cockpit"},
    "nav_portfolio": {"de": "Portfolio", "en": "Portfolio"},
    "nav_migration": {"de": "Segmentwanderung", "en": "Segment migration"},
    "nav_search": {"de": "Kunde suchen …", "en": "Find a customer …"},
    "data_as_of": {"de": "Datenstand {date}", "en": "Data as of {date}"},
    "read_only_note": {"de": "nur lesend", "en": "read-only"},
    # ---- pages that cannot be shown
    "error_no_warehouse": {
        "de": "Kein veröffentlichtes Warehouse gefunden",
        "en": "No published warehouse found",
    },
    "error_no_warehouse_hint": {
        "de": "Auf dem Server ist noch kein Warehouse veröffentlicht. Der Befehl „cvm load“ "
              "veröffentlicht es; danach genügt ein Neuladen dieser Seite.",
        "en": "No warehouse has been published on the server yet. The command “cvm load” "
              "publishes it; then reload this page.",
    },
    "error_unreadable": {
        "de": "Das Warehouse lässt sich nicht lesen",
        "en": "The warehouse cannot be read",
    },
    "error_unknown_customer": {
        "de": "Kunde {customer_id} ist unbekannt",
        "en": "Customer {customer_id} is unknown",
    },
    "error_unknown_customer_hint": {
        "de": "Im veröffentlichten Warehouse gibt es keinen Kunden mit dieser Nummer.",
        "en": "The published warehouse holds no customer with this id.",
    },
    "error_no_periods": {
        "de": "Das Warehouse enthält noch keine Kundenwerte",
        "en": "The warehouse holds no customer values yet",
    },
    "error_unknown_period": {
        "de": "Für den Zeitraum {period} liegen keine Daten vor",
        "en": "There is no data for the period {period}",
    },
    "error_available_periods": {"de": "Verfügbare Zeiträume:", "en": "Available periods:"},
    "error_not_found": {"de": "Diese Seite gibt es nicht", "en": "This page does not exist"},
    "error_not_found_hint": {
        "de": "Die Adresse {path} gehört zu keiner Seite des Cockpits.",
        "en": "The address {path} belongs to no page of the cockpit.",
    },
    "error_back": {"de": "Zum Portfolio", "en": "To the portfolio"},
    # ---- portfolio
    "portfolio_title": {"de": "Kundenportfolio {period}", "en": "Customer portfolio {period}"},
    "portfolio_subtitle": {
        "de": "Klassischer Kundenwert (Wert vom Kunden) gegen Wertetransfer (Wert für den "
              "Kunden: kostenlose und vergünstigte Leistungen zu Standardkosten)",
        "en": "Classic customer value (value from the customer) against value transfer (value "
              "to the customer: free and discounted services at standard cost)",
    },
    "filter_period": {"de": "Zeitraum", "en": "Period"},
    "filter_manager": {"de": "Kundenbetreuer", "en": "Account manager"},
    "filter_region": {"de": "Region", "en": "Region"},
    "filter_industry": {"de": "Branche", "en": "Industry"},
    "filter_segment": {"de": "Segment", "en": "Segment"},
    "filter_all": {"de": "alle", "en": "all"},
    "filter_scale": {"de": "Achsen", "en": "Axes"},
    "scale_log": {"de": "logarithmisch", "en": "logarithmic"},
    "scale_linear": {"de": "linear", "en": "linear"},
    "portfolio_count": {
        "de": "{shown} von {total} Kunden des Zeitraums",
        "en": "{shown} of the period's {total} customers",
    },
    "axis_classic": {
        "de": "Klassischer Kundenwert (€)",
        "en": "Classic customer value (€)",
    },
    "axis_transfer": {"de": "Wertetransfer (€)", "en": "Value transfer (€)"},
    "threshold_classic": {
        "de": "Schwelle klassischer Wert {value}",
        "en": "classic value threshold {value}",
    },
    "threshold_transfer": {
        "de": "Schwelle Wertetransfer {value}",
        "en": "value transfer threshold {value}",
    },
    "legend_potential": {
        "de": "Neukunde, nach Potenzial bewertet ({n})",
        "en": "new customer, valued by potential ({n})",
    },
    "legend_not_positive": {
        "de": "Wert ≤ 0 € (am Achsenrand)",
        "en": "value ≤ 0 € (at the axis edge)",
    },
    "hover_revenue": {"de": "Umsatz", "en": "Revenue"},
    "hover_classic": {"de": "Klassischer Wert", "en": "Classic value"},
    "hover_transfer": {"de": "Wertetransfer", "en": "Value transfer"},
    "hover_potential": {"de": "(Potenzial eines Neukunden)", "en": "(a new customer's potential)"},
    "hover_click": {"de": "Klick öffnet das Kunden-Cockpit", "en": "Click opens the cockpit"},
    "note_not_positive": {
        "de": "{count} Kunden mit klassischem Wert oder Wertetransfer ≤ 0 € stehen auf der "
              "logarithmischen Achse am Rand (Symbol ×); ihr wahrer Wert steht im Tooltip. "
              "Die lineare Achse zeigt sie an ihrem Ort.",
        "en": "{count} customers with a classic value or value transfer ≤ 0 € sit at the edge "
              "of the logarithmic axis (symbol ×); the tooltip gives the true value. The "
              "linear axis shows them where they are.",
    },
    "note_click": {
        "de": "Größe der Blase = Umsatz. Ein Klick auf eine Blase öffnet das Kunden-Cockpit.",
        "en": "Bubble size = revenue. Click a bubble to open the customer's cockpit.",
    },
    "segments_heading": {"de": "Segmente und Strategien", "en": "Segments and strategies"},
    "col_segment": {"de": "Segment", "en": "Segment"},
    "col_strategy": {"de": "Strategie", "en": "Strategy"},
    "col_customers": {"de": "Kunden", "en": "Customers"},
    "col_revenue": {"de": "Umsatz", "en": "Revenue"},
    "col_value_transfer": {"de": "Wertetransfer", "en": "Value transfer"},
    "no_match": {
        "de": "Kein Kunde des Zeitraums passt zu diesen Filtern.",
        "en": "No customer of the period matches these filters.",
    },
    # ---- customer cockpit
    "customer_back": {"de": "← Portfolio {period}", "en": "← Portfolio {period}"},
    "customer_since": {"de": "Kunde seit", "en": "Customer since"},
    "customer_status": {"de": "Status", "en": "Status"},
    "customer_manager": {"de": "Kundenbetreuer", "en": "Account manager"},
    "customer_region": {"de": "Region / Branche", "en": "Region / industry"},
    "kpi_revenue": {"de": "Umsatz", "en": "Revenue"},
    "kpi_margin": {"de": "Deckungsbeitrag", "en": "Contribution margin"},
    "kpi_share": {"de": "Lieferanteil", "en": "Share of wallet"},
    "kpi_abc": {"de": "ABC-Klasse", "en": "ABC class"},
    "kpi_classic": {"de": "Klassischer Kundenwert", "en": "Classic customer value"},
    "kpi_classic_is_potential": {
        "de": "= Potenzial (Neukunde)",
        "en": "= potential (new customer)",
    },
    "kpi_transfer": {"de": "Wertetransfer", "en": "Value transfer"},
    "kpi_segment": {"de": "Segment", "en": "Segment"},
    "kpi_strategy": {"de": "Strategie", "en": "Strategy"},
    "kpi_none": {"de": "–", "en": "–"},
    "customer_no_value": {
        "de": "Im Zeitraum {period} hat dieser Kunde weder Umsatz noch Leistungen.",
        "en": "In the period {period} this customer has neither revenue nor services.",
    },
    "download_pdf": {"de": "Leistungsnachweis (PDF)", "en": "Value statement (PDF)"},
    "download_html": {"de": "als HTML", "en": "as HTML"},
    "totals_heading": {
        "de": "Leistungen {period} nach Art",
        "en": "Services in {period} by type",
    },
    "services_heading": {
        "de": "Alle Leistungen {period}",
        "en": "Every service in {period}",
    },
    "services_count": {"de": "{count} von {total} Leistungen", "en": "{count} of {total} services"},
    "services_filter_type": {"de": "Leistungsart", "en": "Service type"},
    "services_filter_kind": {"de": "Abrechnung", "en": "Billing"},
    "services_filter_text": {"de": "Suche im Hintergrund", "en": "Search the background"},
    "col_date": {"de": "Datum", "en": "Date"},
    "col_service": {"de": "Leistung", "en": "Service"},
    "col_background": {"de": "Hintergrund", "en": "Background"},
    "col_duration": {"de": "Dauer (Min.)", "en": "Duration (min)"},
    "col_hours": {"de": "Stunden", "en": "Hours"},
    "col_participants": {"de": "Teilnehmer", "en": "Participants"},
    "col_employee": {"de": "Mitarbeiter", "en": "Employee"},
    "col_standard_cost": {"de": "Standardkosten", "en": "Standard cost"},
    "col_billed": {"de": "Berechnet", "en": "Billed"},
    "col_kind": {"de": "Art", "en": "Kind"},
    "col_rate": {"de": "Kostensatz", "en": "Rate version"},
    "rate_derived": {"de": "aus Kapazität", "en": "from capacity"},
    "col_count": {"de": "Anzahl", "en": "Count"},
    "col_total": {"de": "Summe", "en": "Total"},
    "col_period": {"de": "Zeitraum", "en": "Period"},
    "kind_free": {"de": "kostenlos", "en": "free"},
    "kind_discounted": {"de": "vergünstigt", "en": "discounted"},
    "kind_billed": {"de": "berechnet", "en": "billed"},
    "kind_unpriced": {"de": "ohne Satz", "en": "no rate"},
    "cap_unused": {"de": "ungenutzt", "en": "unused"},
    "cap_title": {"de": "Kapazität je Abteilung: genutzt und ungenutzt – {period}",
                  "en": "Capacity by department: used and unused – {period}"},
    "cap_none": {"de": "Keine Kapazitätsdaten für diesen Zeitraum",
                 "en": "No capacity data for this period"},
    "cap_unused_cost": {"de": "ungenutzt: {cost}", "en": "unused: {cost}"},
    "cap_hours": {"de": "Stunden", "en": "hours"},
    "history_heading": {"de": "Verlauf über alle Zeiträume", "en": "History over all periods"},
    "history_path": {"de": "Segmentpfad", "en": "Segment path"},
    "history_not_active": {"de": "nicht aktiv", "en": "not active"},
    # ---- the cockpit: what a customer will be worth (the purchase model), the base's value
    "clv_heading": {"de": "Was der Kunde wert sein wird", "en": "What the customer will be worth"},
    "clv_subtitle": {
        "de": "Prognose des Kaufmodells zum {date} für die nächsten {months} Monate; der CLV "
              "ist der erwartete Deckungsbeitrag dieser Monate, Monat für Monat abgezinst. "
              "Sie gilt für den Kunden, nicht für den gewählten Zeitraum.",
        "en": "The purchase model's forecast as of {date} for the next {months} months; the "
              "CLV is the expected contribution margin of these months, discounted month by "
              "month. It belongs to the customer, not to the period chosen.",
    },
    "kpi_clv": {"de": "Kundenlebenswert (CLV)", "en": "Customer lifetime value (CLV)"},
    "kpi_p_alive": {"de": "Noch aktiv (Wahrscheinlichkeit)", "en": "Still active (probability)"},
    "kpi_expected_purchases": {
        "de": "Erwartete Kauftage ({months} Monate)",
        "en": "Expected purchase days ({months} months)",
    },
    "kpi_expected_margin": {
        "de": "Erwarteter Deckungsbeitrag ({months} Monate)",
        "en": "Expected contribution margin ({months} months)",
    },
    "kpi_purchases_so_far": {
        "de": "bisher {count} Kauftage",
        "en": "{count} purchase days so far",
    },
    "kpi_purchases_so_far_one": {"de": "bisher ein Kauftag", "en": "one purchase day so far"},
    "kpi_no_value_model": {
        "de": "kein Wertmodell geschätzt",
        "en": "no value model fitted",
    },
    "clv_no_purchase": {
        "de": "Für diesen Kunden gibt es keine Prognose: bis zum {date} hat er nichts gekauft.",
        "en": "There is no forecast for this customer: it bought nothing up to {date}.",
    },
    "clv_not_fitted": {
        "de": "Für diesen Kunden gibt es keine Prognose: das Kaufmodell wurde zum {date} nicht "
              "geschätzt (zu wenige Kunden mit Käufen, oder die Schätzung kam zu keinem "
              "Ergebnis).",
        "en": "There is no forecast for this customer: the purchase model was not fitted as "
              "of {date} (too few customers with purchases, or the fit found no result).",
    },
    "equity_heading": {"de": "Wert des Kundenstamms", "en": "Value of the customer base"},
    "equity_subtitle": {
        "de": "Summe der Kundenlebenswerte (CLV) je Segment zu jedem Stichtag der Ladungen; "
              "ein Kunde zählt im Segment des Zeitraums, in dem der Stichtag liegt. Gilt für "
              "alle Kunden, unabhängig von Zeitraum und Filtern oben.",
        "en": "The sum of the customer lifetime values (CLV) per segment at each as-of date "
              "of the loads; a customer counts in its segment of the period holding that "
              "date. It covers every customer, whatever the period and filters above.",
    },
    "equity_axis": {"de": "CLV (Summe)", "en": "CLV (sum)"},
    "equity_latest": {"de": "Stand {date}", "en": "As of {date}"},
    "equity_none": {
        "de": "Noch kein Wert des Kundenstamms: das Kaufmodell wurde noch zu keinem Stichtag "
              "geschätzt.",
        "en": "No value of the customer base yet: the purchase model has not been fitted at "
              "any as-of date.",
    },
    "equity_restricted": {
        "de": "Der Wert des Kundenstamms ist eine Summe über alle Kunden; er wird nur denen "
              "gezeigt, die alle Kunden sehen dürfen.",
        "en": "The value of the customer base is a total over every customer; it is shown "
              "only to those who may see every customer.",
    },
    "equity_not_fitted": {
        "de": "Zum {date} wurde das Kaufmodell nicht geschätzt (zu wenige Kunden mit Käufen, "
              "oder die Schätzung kam zu keinem Ergebnis): die Kunden sind gezählt, ihr Wert "
              "nicht.",
        "en": "The purchase model was not fitted as of {date} (too few customers with "
              "purchases, or the fit found no result): the customers are counted, their value "
              "is not.",
    },
    "segment_none": {"de": "ohne Segment", "en": "no segment"},
    "col_as_of": {"de": "Stichtag", "en": "As of"},
    "col_clv": {"de": "CLV", "en": "CLV"},
    "col_expected_margin": {"de": "Erwarteter Deckungsbeitrag",
                            "en": "Expected contribution margin"},
    "col_mean_p_alive": {"de": "Ø noch aktiv", "en": "Mean still active"},
    # ---- migration
    "migration_title": {
        "de": "Segmentwanderung {start} → {end}",
        "en": "Segment migration {start} → {end}",
    },
    "migration_subtitle": {
        "de": "Zeilen: Segment im Ausgangszeitraum, Spalten: Segment im Zielzeitraum; "
              "„nicht aktiv“: im Zeitraum weder Umsatz noch Leistungen. Ein Klick auf eine "
              "Zahl listet die Kunden.",
        "en": "Rows: segment in the first period, columns: segment in the second; "
              "“not active”: neither revenue nor services in that period. Click a number to "
              "list its customers.",
    },
    "migration_from": {"de": "von", "en": "from"},
    "migration_to": {"de": "nach", "en": "to"},
    "migration_none": {"de": "nicht aktiv", "en": "not active"},
    "migration_cell": {
        "de": "{start} {source} → {end} {target} · Kunden: {count}",
        "en": "{start} {source} → {end} {target} · customers: {count}",
    },
    "migration_pick_cell": {
        "de": "Wählen Sie eine Zelle der Matrix, um ihre Kunden zu sehen.",
        "en": "Pick a cell of the matrix to see its customers.",
    },
    "col_customer": {"de": "Kunde", "en": "Customer"},
    "col_customer_id": {"de": "Kundennummer", "en": "Customer id"},
    # ---- the cockpit: search, HTTP errors, customer facts, partial periods, notes
    "search_none": {"de": "Kein Kunde passt zu „{term}“", "en": "No customer matches “{term}”"},
    "error_unreadable_hint": {
        "de": "Der Server kann das veröffentlichte Warehouse nicht lesen; der Grund steht im "
              "Protokoll des Servers.",
        "en": "The server cannot read the published warehouse; its log gives the reason.",
    },
    "error_bad_range": {
        "de": "Diesen Zeitraum gibt es nicht: „von“ und „bis“ sind Zeiträume des Warehouse "
              "oder Tage (JJJJ-MM-TT), der Beginn nicht nach dem Ende.",
        "en": "There is no such range: “from” and “to” are periods of the warehouse or days "
              "(YYYY-MM-DD), and the start is not after the end.",
    },
    "status_active": {"de": "aktiv", "en": "active"},
    "status_inactive": {"de": "inaktiv", "en": "inactive"},
    "status_prospect": {"de": "Interessent", "en": "prospect"},
    "kpi_potential": {"de": "Potenzial", "en": "Potential"},
    "potential_source_crm": {"de": "vom Vertrieb (CRM)", "en": "from sales (CRM)"},
    "potential_source_model": {
        "de": "Schätzung des Kaufmodells; im CRM keines",
        "en": "the purchase model's estimate; none in the CRM",
    },
    "potential_source_none": {
        "de": "weder im CRM noch vom Kaufmodell",
        "en": "neither in the CRM nor from the purchase model",
    },
    "potential_model_beside": {"de": "Kaufmodell: {amount}", "en": "Purchase model: {amount}"},
    "kpi_share_no_potential": {
        "de": "kein Potenzial erfasst",
        "en": "no potential recorded",
    },
    "totals_note_over_billed": {
        "de": "Wertetransfer je Leistung = Standardkosten − Berechnet, nie unter 0 €: "
              "{count} Leistungen wurden über ihren Standardkosten berechnet (zusammen "
              "{amount} darüber) und zählen mit 0 €.",
        "en": "Value transfer per service = standard cost − billed, never below 0 €: "
              "{count} services were billed above their standard cost (together {amount} "
              "above it) and count as 0 €.",
    },
    "totals_note_over_billed_one": {
        "de": "Wertetransfer je Leistung = Standardkosten − Berechnet, nie unter 0 €: "
              "eine Leistung wurde über ihren Standardkosten berechnet ({amount} darüber) "
              "und zählt mit 0 €.",
        "en": "Value transfer per service = standard cost − billed, never below 0 €: one "
              "service was billed above its standard cost ({amount} above it) and counts as "
              "0 €.",
    },
    "totals_note_unpriced": {
        "de": "{count} Leistungen ohne gültigen Kostensatz haben keine Standardkosten und "
              "keinen Wertetransfer; ihre {amount} Berechnet stehen nur in der Spalte "
              "„Berechnet“.",
        "en": "{count} services without a valid cost rate have no standard cost and no value "
              "transfer; their {amount} billed appear in the “Billed” column only.",
    },
    "totals_note_unpriced_one": {
        "de": "Eine Leistung ohne gültigen Kostensatz hat keine Standardkosten und keinen "
              "Wertetransfer; ihre {amount} Berechnet stehen nur in der Spalte „Berechnet“.",
        "en": "One service without a valid cost rate has no standard cost and no value "
              "transfer; its {amount} billed appear in the “Billed” column only.",
    },
    "period_partial": {"de": "{name} (bis {through})", "en": "{name} (to {through})"},
    "history_partial_note": {
        "de": "{name} läuft noch: Daten bis {through}. Seine Werte wachsen bis zum Ende des "
              "Zeitraums; weniger als in einem ganzen Zeitraum ist noch kein Rückgang.",
        "en": "{name} is still running: data to {through}. Its values grow until the period "
              "ends; less than in a whole period is no decline yet.",
    },
    "history_axis_revenue": {"de": "Umsatz (€)", "en": "Revenue (€)"},
    "history_axis_transfer": {"de": "Wertetransfer (€)", "en": "Value transfer (€)"},
    "migration_partial_note": {
        "de": "{name} läuft noch: Daten bis {through}. Wer bis dahin weder Umsatz noch "
              "Leistungen hat, zählt in {name} als „nicht aktiv“.",
        "en": "{name} is still running: data to {through}. A customer with neither revenue "
              "nor services so far counts as “not active” in {name}.",
    },
    "migration_backwards": {
        "de": "Rückwärts: {start} liegt nach {end}. Die Zeilen zeigen das spätere, die "
              "Spalten das frühere Segment.",
        "en": "Backwards: {start} comes after {end}. The rows show the later segment, the "
              "columns the earlier one.",
    },
    "migration_forward": {
        "de": "In zeitlicher Folge zeigen ({end} → {start})",
        "en": "Show in time order ({end} → {start})",
    },
    "segments_rounding_note": {
        "de": "Beträge auf ganze Euro gerundet. Die Summe ist aus den genauen Werten "
              "gerechnet; die Zeilen sind so gerundet, dass sie diese Summe ergeben.",
        "en": "Amounts rounded to whole euros. The total is summed from the exact values; "
              "the rows are rounded so that they add up to it.",
    },
    # ---- the value statement (customer-facing)
    "st_title_period": {
        "de": "Unsere Leistungen für Sie {period}",
        "en": "Our services to you in {period}",
    },
    "st_title_range": {
        "de": "Unsere Leistungen für Sie vom {start} bis {end}",
        "en": "Our services to you from {start} to {end}",
    },
    "st_customer_number": {"de": "Kundennummer", "en": "Customer number"},
    "st_period": {"de": "Zeitraum", "en": "Period"},
    "st_issued": {"de": "Erstellt am", "en": "Issued on"},
    "st_as_of": {"de": "Leistungen bis", "en": "Services up to"},
    "st_intro": {
        "de": "Über die gelieferten Produkte hinaus haben wir Sie im Zeitraum mit "
              "Serviceleistungen unterstützt, die wir Ihnen ganz oder teilweise nicht "
              "berechnet haben. Diese Übersicht bewertet sie zu unseren Standardkosten.",
        "en": "Beyond the products we delivered, we supported you in this period with services "
              "that we did not invoice, in whole or in part. This overview values them at our "
              "standard cost.",
    },
    "st_total_label": {
        "de": "Wert der Ihnen kostenfrei erbrachten Leistungen",
        "en": "Value of services provided to you free of charge",
    },
    "st_total_note": {
        "de": "Standardkosten abzüglich der berechneten Beträge; bei vergünstigten "
              "Leistungen zählt nur der nicht berechnete Teil.",
        "en": "Standard cost less the amounts invoiced; for discounted services only the part "
              "not invoiced counts.",
    },
    "st_by_category": {"de": "Leistungen nach Art", "en": "Services by type"},
    "st_col_service": {"de": "Leistung", "en": "Service"},
    "st_col_count": {"de": "Anzahl", "en": "Count"},
    "st_col_hours": {"de": "Stunden", "en": "Hours"},
    "st_col_participants": {"de": "Teilnehmer", "en": "Participants"},
    "st_col_standard_cost": {"de": "Wert zu Standardkosten", "en": "Value at standard cost"},
    "st_col_billed": {"de": "Berechnet", "en": "Invoiced"},
    "st_col_given": {"de": "Ihr Vorteil", "en": "Value given"},
    "st_col_date": {"de": "Datum", "en": "Date"},
    "st_col_background": {"de": "Anlass", "en": "Background"},
    "st_col_period": {"de": "Zeitraum", "en": "Period"},
    "st_total_row": {"de": "Summe", "en": "Total"},
    "st_top_services": {
        "de": "Die wichtigsten Einzelleistungen",
        "en": "The most significant services",
    },
    "st_comparison": {  # shown when there is an earlier period to compare with
        "de": "Im Vergleich zu früheren Zeiträumen",
        "en": "Compared with earlier periods",
    },
    "st_none": {
        "de": "Im Zeitraum haben wir keine kostenlosen oder vergünstigten Leistungen für Sie "
              "erfasst.",
        "en": "We recorded no free or discounted services for you in this period.",
    },
    # a period still running: the statement is an interim one, unmistakably
    "st_interim": {"de": "Zwischenstand", "en": "interim statement"},
    "st_interim_note": {
        "de": "Zwischenstand: Der Zeitraum läuft noch bis {end}. Erfasst sind unsere "
              "Leistungen bis {through}; spätere folgen mit der nächsten Übersicht.",
        "en": "Interim statement: the period runs until {end}. It counts our services up to "
              "{through}; later ones follow in the next statement.",
    },
    "st_running_period": {"de": "{period} (bis {through}, laufend)",
                          "en": "{period} (to {through}, running)"},
    # the background notes are free text, recorded in German: said where it matters (en)
    "st_background_note": {
        "de": "Die Anlässe sind so wiedergegeben, wie unsere Mitarbeiter sie erfasst haben.",
        "en": "The background notes are quoted as our staff recorded them, usually in German.",
    },
    "st_page": {"de": "Seite", "en": "Page"},
    "st_of": {"de": "von", "en": "of"},
    "st_footer": {
        "de": "Bewertung zu internen Standardkostensätzen des jeweiligen Leistungsdatums.",
        "en": "Valued at our internal standard cost rates valid on each service's date.",
    },
    # ---- the reports of the command line: periods (summary, charts, export) and charts
    "period_running": {"de": "{name}, Daten bis {through}", "en": "{name}, data through {through}"},
    "period_complete": {"de": "{name}", "en": "{name}"},
    "chart_portfolio_title": {
        "de": "Kundenwert-Portfolio {period}",
        "en": "Customer-value portfolio {period}",
    },
    "chart_portfolio_subtitle": {
        "de": "Schwellen: klassischer Wert {x_cut}, Wertetransfer {y_cut} (gestrichelt); "
              "Blasengröße = Umsatz",
        "en": "thresholds: classic value {x_cut}, value transfer {y_cut} (dashed); bubble "
              "size = revenue",
    },
    "chart_portfolio_grid": {
        "de": "Raster {n}×{m}: Quantilgrenzen je Achse (gepunktet)",
        "en": "{n}×{m} grid: quantile cut-offs per axis (dotted)",
    },
    "chart_portfolio_x": {
        "de": "Klassischer Kundenwert (Wert VOM Kunden), € – log. Skala",
        "en": "Classic customer value (value FROM the customer), € – log scale",
    },
    "chart_portfolio_y": {
        "de": "Wertetransfer (Wert ZUM Kunden: kostenlose Leistungen zu Standardkosten), € – "
              "log. Skala",
        "en": "Value transfer (value TO the customer: free services at standard cost), € – "
              "log scale",
    },
    "chart_legend_segments": {"de": "Segment (Kunden)", "en": "Segment (customers)"},
    "chart_legend_new": {
        "de": "Neukunde, nach Potenzial bewertet ({n})",
        "en": "new customer, valued by its potential ({n})",
    },
    "chart_edge_x": {
        "de": "am linken Rand: klassischer Wert unter {floor}, auch 0 und negativ ({n})",
        "en": "at the left edge: classic value below {floor}, 0 and negative too ({n})",
    },
    "chart_edge_y": {
        "de": "am unteren Rand: Wertetransfer unter {floor}, auch 0 ({n})",
        "en": "at the bottom edge: value transfer below {floor}, 0 too ({n})",
    },
    "chart_edge_band": {"de": "unter {floor}", "en": "below {floor}"},
    "whale_title": {
        "de": "Walkurve des Kundengewinns nach Serviceleistungen {period}",
        "en": "Whale curve of customer profit after service {period}",
    },
    "whale_subtitle": {
        "de": "Gewinn nach Service = Deckungsbeitrag − Wertetransfer; Summe {total}, "
              "{customers} Kunden, davon {losses} mit Verlust",
        "en": "profit after service = contribution margin − value transfer; total {total}, "
              "{customers} customers, {losses} of them loss-making",
    },
    "whale_x": {
        "de": "Kunden, vom profitabelsten zum unprofitabelsten (kumulierter Anteil)",
        "en": "Customers ranked from most to least profitable (cumulative share)",
    },
    "whale_y": {
        "de": "Kumulierter Gewinn nach Service, Anteil am Gesamtgewinn",
        "en": "Cumulative profit after service, share of the total",
    },
    "whale_y_eur": {
        "de": "Kumulierter Gewinn nach Service, €",
        "en": "Cumulative profit after service, €",
    },
    "whale_peak": {
        "de": "Die profitabelsten {customers} der Kunden erwirtschaften {profit} des Gewinns",
        "en": "The most profitable {customers} of customers earn {profit} of the profit",
    },
    "whale_peak_eur": {
        "de": "Die profitabelsten {customers} der Kunden erwirtschaften {profit}",
        "en": "The most profitable {customers} of customers earn {profit}",
    },
    "whale_peak_detail": {
        "de": "{profit} von {total} Gesamtgewinn",
        "en": "{profit} of {total} in total",
    },
    "whale_curve": {"de": "kumulierter Gewinn, {n} Kunden nach Gewinn gereiht",
                    "en": "cumulative profit, {n} customers ranked by profit"},
    "whale_eroding": {
        "de": "Verlust nach Service im Segment „{segment}“ ({n})",
        "en": "loss after service in the segment “{segment}” ({n})",
    },
    "whale_loss_zone": {"de": "Kunden mit Verlust nach Service ({n})",
                        "en": "customers with a loss after service ({n})"},
    "whale_total_line": {"de": "Gesamtgewinn (100 %)", "en": "total profit (100 %)"},
    "payback_title": {
        "de": "Wertetransfer {period} und Änderung des Deckungsbeitrags zu {next}",
        "en": "Value transfer in {period} and the change of contribution margin to {next}",
    },
    "payback_subtitle": {
        "de": "je Kunde und Segment; ohne Aufträge im Folgezeitraum zählt dessen "
              "Deckungsbeitrag 0; gestrichelt: Änderung = Wertetransfer",
        "en": "per customer and segment; without orders in the following period its "
              "margin counts as 0; dashed: change = value transfer",
    },
    "payback_caption": {
        "de": "Ein Zusammenhang in den Daten, kein Beweis einer Ursache: Kunden mit mehr "
              "kostenlosen Leistungen unterscheiden sich auch in anderem.",
        "en": "An association over the data, not proof of cause: customers who receive more "
              "free services differ in other ways too.",
    },
    "payback_x": {
        "de": "Wertetransfer im Zeitraum, €",
        "en": "Value transfer in the period, €",
    },
    "payback_y": {
        "de": "Änderung des Deckungsbeitrags zum Folgezeitraum, €",
        "en": "Change of contribution margin to the following period, €",
    },
    "payback_no_customers": {"de": "keine Kunden", "en": "no customers"},
    "payback_panel": {
        "de": "Kunden: {n}; Wertetransfer {transfer}, Änderung {change}",
        "en": "customers: {n}; value transfer {transfer}, change {change}",
    },
    "payback_ratio": {
        "de": "Änderung je € Wertetransfer: {ratio}",
        "en": "change per € of value transfer: {ratio}",
    },
    "payback_no_ratio": {
        "de": "kein Wertetransfer, kein Verhältnis", "en": "no value transfer, no ratio",
    },
    "payback_band_high": {"de": "Hoher klassischer Wert", "en": "High classic value"},
    "payback_band_low": {"de": "Niedriger klassischer Wert", "en": "Low classic value"},
    "payback_band": {
        "de": "{band}: mittlere Änderung bei hohem minus niedrigem Wertetransfer "
              "{difference} ({level}-Bootstrap-Intervall {low} bis {high})",
        "en": "{band}: mean change with high minus low value transfer {difference} "
              "({level} bootstrap interval {low} to {high})",
    },
    "payback_band_no_interval": {
        "de": "{band}: mittlere Änderung bei hohem minus niedrigem Wertetransfer "
              "{difference} (zu wenige Kunden für ein Intervall)",
        "en": "{band}: mean change with high minus low value transfer {difference} "
              "(too few customers for an interval)",
    },
    "payback_band_none": {
        "de": "{band}: kein Vergleich (eine der Gruppen ist leer)",
        "en": "{band}: no comparison (one of the groups is empty)",
    },
    # ---- the export: sheets, column headings, the period's items, reconciliation, values
    "ex_table_period": {"de": "Zeitraum", "en": "Period"},
    "ex_table_reconciliation": {"de": "Abstimmung", "en": "Reconciliation"},
    "ex_table_load_log": {"de": "Ladeprotokoll", "en": "Load log"},
    "ex_table_rejected_rows": {"de": "Abgelehnte Zeilen", "en": "Rejected rows"},
    "ex_col_customer": {"de": "Kunde", "en": "Customer"},
    "ex_col_customer_name": {"de": "Kundenname", "en": "Customer name"},
    "ex_col_service_type": {"de": "Leistungsart", "en": "Service type"},
    "ex_col_service": {"de": "Leistung", "en": "Service"},
    "ex_col_period": {"de": "Zeitraum", "en": "Period"},
    "ex_col_rate_version": {"de": "Kostensatz", "en": "Rate version"},
    "ex_col_transfer_kind": {"de": "Transferart", "en": "Transfer kind"},
    "ex_col_activities": {"de": "Leistungen", "en": "Activities"},
    "ex_col_minutes": {"de": "Minuten", "en": "Minutes"},
    "ex_col_hours": {"de": "Stunden", "en": "Hours"},
    "ex_col_participants": {"de": "Teilnehmer", "en": "Participants"},
    "ex_col_standard_cost": {"de": "Standardkosten", "en": "Standard cost"},
    "ex_col_billed": {"de": "Berechnet", "en": "Billed"},
    "ex_col_value_transfer": {"de": "Wertetransfer", "en": "Value transfer"},
    "ex_col_date": {"de": "Datum", "en": "Date"},
    "ex_col_activity": {"de": "Leistung-ID", "en": "Activity"},
    "ex_col_employee": {"de": "Mitarbeiter", "en": "Employee"},
    "ex_col_source_file": {"de": "Quelldatei", "en": "Source file"},
    "ex_col_line": {"de": "Zeile", "en": "Line"},
    "ex_col_valid_from": {"de": "Gültig ab", "en": "Valid from"},
    "ex_col_valid_to_exclusive": {
        "de": "Gültig bis (ausschließlich)",
        "en": "Valid to (exclusive)",
    },
    "ex_col_hourly_rate": {"de": "Stundensatz", "en": "Hourly rate"},
    "ex_col_per_event": {"de": "Je Einsatz", "en": "Per event"},
    "ex_col_per_participant": {"de": "Je Teilnehmer", "en": "Per participant"},
    "ex_col_activities_priced": {"de": "Bewertete Leistungen", "en": "Activities priced"},
    "ex_col_reason": {"de": "Grund", "en": "Reason"},
    "ex_col_delivery": {"de": "Lieferung", "en": "Delivery"},
    "ex_col_file": {"de": "Datei", "en": "File"},
    "ex_col_extract": {"de": "Extrakt", "en": "Extract"},
    "ex_col_rows_read": {"de": "Zeilen gelesen", "en": "Rows read"},
    "ex_col_loaded": {"de": "Geladen", "en": "Loaded"},
    "ex_col_rejected": {"de": "Abgelehnt", "en": "Rejected"},
    "ex_col_of_which_open": {"de": "Davon offen", "en": "Of which open"},
    "ex_col_format": {"de": "Format", "en": "Format"},
    "ex_col_gx_suite_passed": {"de": "GX-Prüfung bestanden", "en": "GX suite passed"},
    "ex_col_identical_to": {"de": "Gleich wie", "en": "Identical to"},
    "ex_col_loaded_at": {"de": "Geladen am", "en": "Loaded at"},
    "ex_col_sha_256": {"de": "SHA-256", "en": "SHA-256"},
    "ex_col_code": {"de": "Code", "en": "Code"},
    "ex_col_detail": {"de": "Detail", "en": "Detail"},
    "ex_col_state": {"de": "Stand", "en": "State"},
    "ex_col_resolved_by_delivery": {"de": "Aufgelöst mit Lieferung", "en": "Resolved by delivery"},
    "ex_col_record_as_delivered": {"de": "Zeile wie geliefert", "en": "Record as delivered"},
    "ex_col_item_period": {"de": "Angabe", "en": "Item"},
    "ex_col_value": {"de": "Wert", "en": "Value"},
    "ex_col_item_check": {"de": "Position", "en": "Item"},
    "ex_col_unit": {"de": "Einheit", "en": "Unit"},
    "ex_col_in_the_export": {"de": "Im Export", "en": "In the export"},
    "ex_col_in_the_marts": {"de": "Laut Marts", "en": "In the marts"},
    "ex_col_difference": {"de": "Differenz", "en": "Difference"},
    "ex_col_source_in_the_marts": {"de": "Quelle in den Marts", "en": "Source in the marts"},
    "ex_table_service_cost_by_customer": {
        "de": "Leistungskosten je Kunde",
        "en": "Service cost by customer",
    },
    "ex_table_value_transfer_ledger": {
        "de": "Wertetransfer-Journal",
        "en": "Value-transfer ledger",
    },
    "ex_table_rate_versions": {"de": "Kostensätze", "en": "Rate versions"},
    "ex_table_clv": {"de": "Kundenlebenswert (CLV)", "en": "Customer lifetime value"},
    "ex_table_clv_model": {"de": "Kaufmodell (CLV)", "en": "Purchase model (CLV)"},
    "ex_col_as_of": {"de": "Stichtag", "en": "As of"},
    "ex_col_purchase_days": {"de": "Kauftage", "en": "Purchase days"},
    "ex_col_repeat_purchase_days": {"de": "Wiederholungskäufe (Tage)",
                                    "en": "Repeat purchase days"},
    "ex_col_recency_days": {"de": "Erster bis letzter Kauf (Tage)",
                            "en": "First to last purchase (days)"},
    "ex_col_t_days": {"de": "Erster Kauf bis Stichtag (Tage)",
                      "en": "First purchase to as-of date (days)"},
    "ex_col_margin_per_purchase": {"de": "Deckungsbeitrag je Kauftag (erwartet)",
                                   "en": "Contribution margin per purchase day (expected)"},
    "ex_col_p_alive": {"de": "Noch aktiv (Wahrscheinlichkeit)",
                       "en": "Still active (probability)"},
    "ex_col_expected_purchases": {"de": "Erwartete Kauftage", "en": "Expected purchase days"},
    "ex_col_expected_revenue": {"de": "Erwarteter Umsatz", "en": "Expected revenue"},
    "ex_col_expected_margin": {"de": "Erwarteter Deckungsbeitrag",
                               "en": "Expected contribution margin"},
    "ex_col_clv": {"de": "CLV (abgezinst)", "en": "CLV (discounted)"},
    "ex_col_horizon_months": {"de": "Horizont (Monate)", "en": "Horizon (months)"},
    "ex_col_model": {"de": "Modell", "en": "Model"},
    "ex_col_parameter": {"de": "Parameter", "en": "Parameter"},
    "ex_col_log_likelihood": {"de": "Log-Likelihood", "en": "Log-likelihood"},
    "ex_col_customers_fitted": {"de": "Kunden der Schätzung", "en": "Customers fitted"},
    "ex_col_time_unit": {"de": "Zeiteinheit", "en": "Time unit"},

    "ex_table_unpriced_activities": {"de": "Nicht bewertet", "en": "Unpriced activities"},
    "ex_table_capacity": {"de": "Kapazität", "en": "Capacity"},
    "ex_col_rate_source": {"de": "Herkunft des Satzes", "en": "Rate source"},
    "ex_col_department": {"de": "Abteilung", "en": "Department"},
    "ex_rate_typed": {"de": "erfasst", "en": "typed"},
    "ex_rate_derived": {"de": "aus Kapazität abgeleitet", "en": "derived from capacity"},
    "ex_col_capacity_cost": {"de": "Kapazitätskosten", "en": "Capacity cost"},
    "ex_col_practical_minutes": {"de": "Praktische Kapazität (Minuten)",
                                 "en": "Practical capacity (minutes)"},
    "ex_col_used_minutes": {"de": "Genutzte Minuten", "en": "Used minutes"},
    "ex_col_unused_minutes": {"de": "Ungenutzte Minuten", "en": "Unused minutes"},
    "ex_col_assigned_cost": {"de": "Den Leistungen zugeordnet", "en": "Assigned to activities"},
    "ex_col_assigned_value_transfer": {"de": "davon Wertetransfer",
                                       "en": "of which value transfer"},
    "ex_col_unused_capacity_cost": {"de": "Kosten ungenutzter Kapazität",
                                    "en": "Cost of unused capacity"},
    "ex_col_rate_rounding": {"de": "Rundung des Satzes", "en": "Rate rounding"},
    "ex_col_non_practical_cost": {"de": "davon nicht praktische Kapazität (im Satz)",
                                  "en": "of which non-practical capacity (in the rate)"},
    "ex_check_capacity_cost": {
        "de": "Kapazitätskosten: zugeordnet + ungenutzt + Rundung",
        "en": "Capacity cost: assigned + unused + rounding",
    },
    "ex_check_value_transfer_service_cost_by_customer": {
        "de": "Wertetransfer: Leistungskosten je Kunde",
        "en": "Value transfer: service cost by customer",
    },
    "ex_check_value_transfer_ledger": {
        "de": "Wertetransfer: Journal",
        "en": "Value transfer: ledger",
    },
    "ex_check_value_transfer_rate_versions": {
        "de": "Wertetransfer: Kostensätze",
        "en": "Value transfer: rate versions",
    },
    "ex_check_standard_cost_service_cost_by_customer": {
        "de": "Standardkosten: Leistungskosten je Kunde",
        "en": "Standard cost: service cost by customer",
    },
    "ex_check_standard_cost_rate_versions": {
        "de": "Standardkosten: Kostensätze",
        "en": "Standard cost: rate versions",
    },
    "ex_check_billed_service_cost_by_customer": {
        "de": "Berechnet: Leistungskosten je Kunde",
        "en": "Billed: service cost by customer",
    },
    "ex_check_minutes_service_cost_by_customer": {
        "de": "Minuten: Leistungskosten je Kunde",
        "en": "Minutes: service cost by customer",
    },
    "ex_check_activities_service_cost_by_customer": {
        "de": "Leistungen: Leistungskosten je Kunde",
        "en": "Activities: service cost by customer",
    },
    "ex_check_unpriced_activities": {
        "de": "Nicht bewertete Leistungen",
        "en": "Unpriced activities",
    },
    "ex_check_rejected_rows": {"de": "Abgelehnte Zeilen", "en": "Rejected rows"},
    "ex_check_rejected_rows_open_load_log": {
        "de": "Abgelehnte Zeilen, offen: Ladeprotokoll",
        "en": "Rejected rows, open: load log",
    },
    "ex_check_activities_priced_rate_versions_unpriced": {
        "de": "Leistungen: bewertet (Kostensätze) + nicht bewertet",
        "en": "Activities: priced (rate versions) + unpriced",
    },
    "ex_unit_eur": {"de": "€", "en": "€"},
    "ex_unit_minutes": {"de": "Minuten", "en": "minutes"},
    "ex_unit_count": {"de": "Anzahl", "en": "count"},
    "ex_item_period": {"de": "Zeitraum", "en": "Period"},
    "ex_item_start": {"de": "Beginn", "en": "Start"},
    "ex_item_end": {"de": "Ende", "en": "End"},
    "ex_item_data_through": {"de": "Daten bis (letzte geladene Lieferung)",
                             "en": "Data through (latest delivery loaded)"},
    "ex_item_complete": {"de": "Zeitraum vollständig", "en": "Period complete"},
    "ex_item_warehouse": {"de": "Warehouse", "en": "Warehouse"},
    "ex_item_created_at": {"de": "Erstellt am", "en": "Created at"},
    "ex_yes": {"de": "ja", "en": "yes"},
    "ex_no": {"de": "nein", "en": "no"},
    "ex_state_open": {"de": "offen: wartet auf den Kunden", "en": "open: waiting for its customer"},
    "ex_state_resolved": {"de": "aufgelöst", "en": "resolved"},
    "ex_state_final": {"de": "endgültig abgelehnt", "en": "final"},
    "ex_unpriced_reason": {"de": "kein gültiger Kostensatz für {service_type} am {day}",
                           "en": "no valid rate for {service_type} on {day}"},
    "ex_unpriced_next_rate": {"de": "(erster gültig ab {day})",
                              "en": "(the next one is valid from {day})"},
    "ex_sheet_source": {"de": "Quelle: {source} · erstellt {created}",
                        "en": "Source: {source} · created {created}"},
    # ---- the export: an empty sheet, the reasons of rejected rows (codes of lib/ingest/spec)
    "ex_none": {"de": "keine Einträge", "en": "none"},
    "reason_record_too_long": {"de": "Datensatz zu lang", "en": "record too long"},
    "reason_invalid_encoding": {"de": "ungültige Kodierung", "en": "invalid encoding"},
    "reason_unmapped_service_type": {"de": "Aktivitätsart nicht zugeordnet",
                                     "en": "activity type not mapped"},
    "reason_unknown_currency_rate": {"de": "kein Wechselkurs", "en": "no currency rate"},
    "reason_missing_required_field": {"de": "Pflichtfeld leer",
                                      "en": "required field missing"},
    "reason_invalid_number": {"de": "ungültige Zahl", "en": "invalid number"},
    "reason_invalid_date": {"de": "ungültiges Datum", "en": "invalid date"},
    "reason_invalid_value": {"de": "ungültiger Wert", "en": "invalid value"},
    "reason_negative_value": {"de": "Wert zu klein", "en": "value below its bound"},
    "reason_unknown_service_type": {"de": "unbekannte Leistungsart",
                                    "en": "unknown service type"},
    "reason_duplicate_key": {"de": "doppelter Schlüssel", "en": "duplicate key"},
    "reason_unknown_customer": {"de": "unbekannter Kunde", "en": "unknown customer"},
}

# The details of rejected rows as the ingest writes them (English, lib/ingest/rules.py and
# reading.py), each with its German wording; the named parts are carried over as they are.
_SUBJECT = r"(?P<subject>.*?: '.*')"
REJECT_DETAILS: tuple[tuple[str, str], ...] = (
    (r"(?P<column>\w+) is empty", "{column} ist leer"),
    (_SUBJECT + r" is not an integer", "{subject} ist keine ganze Zahl"),
    (_SUBJECT + r" is not a number", "{subject} ist keine Zahl"),
    (_SUBJECT + r" is not a date", "{subject} ist kein Datum"),
    (_SUBJECT + r" is not a timestamp", "{subject} ist kein Zeitpunkt"),
    (_SUBJECT + r" is before (?P<day>\S+)", "{subject} liegt vor dem {day}"),
    (_SUBJECT + r" is after the extract date (?P<day>\S+)",
     "{subject} liegt nach dem Lieferdatum {day}"),
    (_SUBJECT + r" does not exist in (?P<zone>\S+) \(the clocks skip that hour\)",
     "{subject} gibt es in {zone} nicht (die Uhr überspringt diese Stunde)"),
    (_SUBJECT + r" is ambiguous in (?P<zone>\S+) \(the clocks repeat that hour\); give it "
     r"with its offset",
     "{subject} ist in {zone} mehrdeutig (die Uhr wiederholt diese Stunde); mit "
     "UTC-Versatz angeben"),
    (r"record has (?P<n>\d+) fields, the header (?P<m>\d+)",
     "Datensatz hat {n} Felder, die Kopfzeile {m}"),
    (_SUBJECT + r" is not one of (?P<values>.*)", "{subject} ist keiner der Werte {values}"),
    (_SUBJECT + r" is not a valid (?P<column>\w+)",
     "{subject} ist kein gültiger Wert für {column}"),
    (_SUBJECT + r" is below (?P<bound>\S+)", "{subject} ist kleiner als {bound}"),
    (_SUBJECT + r" is not in the service catalogue", "{subject} steht nicht im Leistungskatalog"),
    (r"key (?P<key>.*) appears with the same updated_at and different content",
     "Schlüssel {key} kommt mit gleichem updated_at und anderem Inhalt mehrfach vor"),
    (r"(?P<subject>.*): no rule of service_types in (?P<file>\S+) maps it",
     "{subject}: keine Regel unter service_types in {file} ordnet es zu"),
    (r"currency '(?P<currency>.*)': no rate of currency_rates.csv is valid on (?P<day>\S+)",
     "Währung '{currency}': kein Kurs in currency_rates.csv gilt am {day}"),
    (r"(?P<field>[\w ]+) '(?P<value>.*)': no (?P<header>\w+) of any delivery "
     r"(?:has that Id|holds that billing document|has it)",
     "{field} '{value}': kein {header} einer Lieferung"),
    (_SUBJECT + r" is in no customers snapshot loaded so far",
     "{subject} ist in keinem bisher geladenen Kundenstand"),
    (r"record of (?P<size>[\d,]+) bytes \(lines? (?P<first>\d+)(?: to (?P<last>\d+))?\) is "
     r"longer than the limit of (?P<limit>[\d,]+) bytes; it starts (?P<start>.*)",
     "Datensatz von {size} Byte ({lines}) ist länger als die Grenze von {limit} Byte; er "
     "beginnt mit {start}"),
    (r"bytes (?P<bytes>(?:0x[0-9A-F]{2} ?)+?)(?: and (?P<more>\d+) more)? do not decode as "
     r"(?P<encoding>\S+)",
     "Bytes {bytes}{more} lassen sich nicht als {encoding} lesen"),
)


def reject_detail(detail: str | None, lang: str) -> str | None:
    """The detail of a rejected row in ``lang``: German from REJECT_DETAILS; a detail of no
    known shape stays as the ingest wrote it."""
    if detail is None or language(lang) == "en":
        return detail
    for pattern, german in REJECT_DETAILS:
        found = re.fullmatch(pattern, detail, flags=re.DOTALL)
        if found:
            parts = {key: value or "" for key, value in found.groupdict().items()}
            if "size" in parts:  # 1,234 bytes: German thousands, "line 5" or "lines 5 to 9"
                parts["size"] = parts["size"].replace(",", ".")
                parts["limit"] = parts["limit"].replace(",", ".")
                parts["lines"] = (f"Zeilen {parts['first']} bis {parts['last']}"
                                  if parts["last"] else f"Zeile {parts['first']}")
            if "more" in parts and parts["more"]:
                parts["more"] = f" und {parts['more']} weitere"
            return german.format(**parts)
    return detail


def language(value: str | None) -> str:
    """The language asked for when it is one we speak, else the default (German)."""
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def text(key: str, lang: str, **values) -> str:
    """The chrome text ``key`` in ``lang``, with ``{placeholders}`` filled in."""
    template = TEXTS[key][language(lang)]
    return template.format(**values) if values else template


def money(value: float | Decimal | None, lang: str, digits: int = 2) -> str:
    """``1.234,56 €`` in German, ``€1,234.56`` in English; an en dash for no value."""
    if value is None:
        return "–"
    # whole euros: the locale's pattern without decimals (a no-break space before € in German)
    pattern = None if digits == 2 else ("¤#,##0" if lang == "en" else "#,##0\xa0¤")
    return format_currency(
        value, "EUR", pattern, locale=_LOCALES[language(lang)],
        currency_digits=digits == 2, format_type="standard",
    )


def number(value: float | Decimal | int | None, lang: str, digits: int = 0) -> str:
    """A plain number with the language's separators, to ``digits`` decimals."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, pattern, locale=_LOCALES[language(lang)])


def hours(minutes: float | Decimal | None, lang: str) -> str:
    """Minutes as hours with one decimal: ``7,5`` in German."""
    return number(None if minutes is None else float(minutes) / 60, lang, digits=1)


def percent(value: float | None, lang: str, digits: int = 1) -> str:
    """A share as a percentage, with one decimal unless `digits` says otherwise."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + " %"
    return format_percent(value, pattern, locale=_LOCALES[language(lang)])


def day(value: date | None, lang: str) -> str:
    """``31.03.2026`` in German, ``31 Mar 2026`` in English."""
    if value is None:
        return "–"
    return format_date(value, _DATE_PATTERNS[language(lang)], locale=_LOCALES[language(lang)])


def plotly_separators(lang: str) -> str:
    """Plotly's ``separators`` (decimal point, then thousands) for the language."""
    return ",." if language(lang) == "de" else ".,"


# ---- the export's formats (lib/reports/sheets.py): Excel number formats, stored in one
# notation (a German Excel shows `#,##0.00 "€"` as `#.##0,00 €`), and the CSV dialects:
# German is the German Excel dialect (`;`, a decimal comma, `22.11.2026`, UTF-8 with a
# byte-order mark), English the standard one (`,`, a decimal point, ISO dates, UTF-8).
EXCEL_FORMATS: dict[str, dict[str, str]] = {
    "de": {"eur": '#,##0.00 "€";[Red]-#,##0.00 "€"', "date": "DD.MM.YYYY",
           "timestamp": "DD.MM.YYYY HH:MM:SS"},
    "en": {"eur": '"€"#,##0.00;[Red]-"€"#,##0.00', "date": "YYYY-MM-DD",
           "timestamp": "YYYY-MM-DD HH:MM:SS"},
}
CSV_DIALECTS: dict[str, dict[str, str]] = {
    "de": {"delimiter": ";", "encoding": "utf-8-sig", "decimal": ","},
    "en": {"delimiter": ",", "encoding": "utf-8", "decimal": "."},
}
_PLAIN_DAYS = {"de": lambda value: value.strftime("%d.%m.%Y"), "en": date.isoformat}
_PLAIN_TIMES = {"de": lambda value: value.strftime("%d.%m.%Y %H:%M:%S"),
                "en": lambda value: value.isoformat(" ")}
_MINUTES = {"de": "%d.%m.%Y %H:%M", "en": "%Y-%m-%d %H:%M"}
# a money value in a Plotly hover template (the separators come from plotly_separators)
_PLOTLY_MONEY = {"de": "%{{{field}:,.0f}} €", "en": "€%{{{field}:,.0f}}"}


# the language the data's free text (the services' background notes) is written in
DATA_LANGUAGE = "de"


def data_language_note(key: str, lang: str) -> str | None:
    """The note ``key`` for a reader of another language than the data's free text; None for
    a reader of that language, who needs no note."""
    return None if language(lang) == DATA_LANGUAGE else text(key, lang)


def in_language(lang: str, **words):
    """The one of ``words`` (``de=…, en=…``) in the reader's language: for the words the
    data hold in both languages (a segment's label, a service's name or its column)."""
    return words[language(lang)]


def plain_day(value: date, lang: str) -> str:
    """A date as a file for that language writes it: ``22.11.2026`` or ``2026-11-22``."""
    return _PLAIN_DAYS[language(lang)](value)


def plain_time(value: datetime, lang: str) -> str:
    """A timestamp as a file for that language writes it, to the second."""
    return _PLAIN_TIMES[language(lang)](value)


def minute(value: datetime, lang: str) -> str:
    """A timestamp to the minute: ``25.11.2026 14:05`` or ``2026-11-25 14:05``."""
    return value.strftime(_MINUTES[language(lang)])


def plotly_money(field: str, lang: str) -> str:
    """A hover template's whole-euro value of ``field``: ``1.234 €`` / ``€1,234``."""
    return _PLOTLY_MONEY[language(lang)].format(field=field)
