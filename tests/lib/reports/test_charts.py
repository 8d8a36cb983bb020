"""`cvm chart`: the whale curve's peak and the portfolio's edge bands, worked out by hand.

The warehouse is the hand-made one of tests/reports_fixtures.py (period 2026, data through
2026-11-22). Profit after service 2026 = contribution margin - value transfer:
  K1 20000 - 385.37 = 19614.63     K2 3000 - 42.99 = 2957.01     K6 400 - 85.97 = 314.03
  K4 0 - 41.79 = -41.79            K5 -500 - 0 = -500.00         K3 500 - 1275.29 = -775.29
  total 21568.59
Ranked from the most profitable: K1, K2, K6, K4, K5, K3; cumulative 19614.63, 22571.64,
22885.67, 22843.88, 22343.88, 21568.59. The peak: the first 3 of 6 customers (50 %) earn
22885.67 = 106.1 % of the total (22885.67 / 21568.59 = 1.06106...).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from orchestration.cli import main
from orchestration.lib.reports.chart import (
    PortfolioRow,
    axis_for,
    band_edges,
    draw_portfolio,
    portfolio_figure,
)
from orchestration.lib.reports.reference import Segment
from orchestration.lib.reports.whale import WhaleRow, draw_whale, whale_figure, whale_peak
from tests.seed_fixtures import seed_segments

D = Decimal


def _texts(fig) -> list[str]:
    """Every text of a figure: title, labels, annotations, legend entries."""
    return [t.get_text() for t in fig.findobj(lambda artist: hasattr(artist, "get_text"))]


def _legend(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_whale_peak_of_hand_made_rows():
    """Profits 500, 300, 200, -100, -400 (total 500): cumulative 500, 800, 1000, 900, 500;
    the peak is the first 3 of 5 customers (60 %), 1000 / 500 = 200 % of the profit."""
    profits, cumulative = [500, 300, 200, -100, -400], [500, 800, 1000, 900, 500]
    rows = [WhaleRow(f"C{i}", "invest", D(p), i, D(c), D(500))
            for i, (p, c) in enumerate(zip(profits, cumulative, strict=True), start=1)]
    assert whale_peak(rows) == (3, 0.6, D(1000), 2.0)
    # a total of 0 or less has no share: the peak is given in euros alone
    losing = [WhaleRow("C1", "invest", D(100), 1, D(100), D(-50)),
              WhaleRow("C2", "invest", D(-150), 2, D(-50), D(-50))]
    assert whale_peak(losing) == (1, 0.5, D(100), None)


def test_whale_curve_of_the_period_peaks_where_worked_out(reports_warehouse):
    fig, label = whale_figure(reports_warehouse, "2026")
    assert label == "2026, Daten bis 22.11.2026"
    texts = _texts(fig)
    assert ("Die profitabelsten 50 % der Kunden erwirtschaften 106 % des Gewinns\n"
            "22.886\xa0€ von 21.569\xa0€ Gesamtgewinn") in texts
    assert any(t.startswith("Walkurve") and "2026, Daten bis 22.11.2026" in t for t in texts)
    # the eroding customers, coloured by segment: K3 renegotiate; K4 and K5 opportunistic
    legend = _legend(fig)
    # the segment's label stands in quotes: "Problemgruppe: nachverhandeln" has a colon
    assert "Verlust nach Service im Segment „Problemgruppe: nachverhandeln“ (1)" in legend
    assert "Verlust nach Service im Segment „Opportunistisch betreuen“ (2)" in legend
    assert not any(entry.count(":") > 1 for entry in legend)
    fig_en, _ = whale_figure(reports_warehouse, "2026", lang="en")
    assert any(t.startswith("The most profitable 50 % of customers earn 106 % of the profit")
               for t in _texts(fig_en))
    assert "loss after service in the segment “Problem group: renegotiate” (1)" in _legend(fig_en)
    _assert_note_below_the_curve(fig, shortest=True)
    _assert_note_below_the_curve(fig_en, shortest=True)


def _assert_note_below_the_curve(fig, shortest=False):
    """The peak's note sits under the curve, its arrow goes straight up to the peak (the
    curve has one point at each x, so a vertical arrow below the peak crosses none): no
    point of the curve lies inside the note's box. With `shortest`, the arrow is short."""
    from matplotlib.text import Annotation

    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (note,) = [t for t in ax.texts if isinstance(t, Annotation)]
    box = note.get_bbox_patch().get_window_extent(renderer)
    curve = ax.lines[0]
    xs, ys = (np.asarray(v, dtype=float) for v in curve.get_data())
    dense = np.linspace(0, 1, 2000)
    points = ax.transData.transform(np.column_stack([dense, np.interp(dense, xs, ys)]))
    inside = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
              & (points[:, 1] > box.y0) & (points[:, 1] < box.y1))
    assert not inside.any()
    peak = ax.transData.transform(note.xy)
    start, *_ = note.arrow_patch.get_path().vertices  # display coordinates, from the box
    assert abs(start[0] - peak[0]) < 1  # straight up, at the peak's x
    assert box.y1 - 1 <= start[1] < peak[1]  # from the box's top edge
    if shortest:
        assert peak[1] - start[1] < 0.25 * ax.get_window_extent(renderer).height


def test_whale_note_of_a_long_curve_stays_under_it():
    """40 customers, profits 100, 95, ... down to -95 (5 apart): the curve rises to the
    20th customer, then falls steeply on both sides; the note fits under it, a vertical
    arrow up to the peak."""
    profits = [100 - 5 * i for i in range(40)]
    total = sum(profits)
    cumulative = np.cumsum(profits)
    rows = [WhaleRow(f"C{i}", "renegotiate" if p < 0 else "invest", D(p), i, D(int(c)),
                     D(total))
            for i, (p, c) in enumerate(zip(profits, cumulative, strict=True), start=1)]
    fig = draw_whale(rows, [_segment(s) for s in seed_segments()], "2026", "de")
    _assert_note_below_the_curve(fig)


def _segment(seed) -> Segment:
    return Segment(seed.segment, seed.display_order, seed.classic_value_level,
                   seed.value_transfer_level, seed.label_de, seed.label_en, seed.strategy,
                   seed.strategy_de)


def test_axis_floor_and_edge_band():
    """Positive values 2000, 8000, 30000, 50000 (median 19000): the floor is the power of
    ten at or below 2000, 1000, and no more than 3 decades below 10^4; 0 and -500 are below
    it. Tiny values far below the median go to the band too: 0.5 among values around 10^5
    gives a floor of 10^(5-3) = 100."""
    axis = axis_for(np.array([50000.0, 8000.0, 2000.0, 0.0, -500.0, 30000.0]))
    assert axis.floor == 1000
    assert axis.in_band(np.array([0.0, -500.0, 999.0, 1000.0])).tolist() == [
        True, True, True, False]
    assert axis.band_low < axis.band_middle < axis.floor
    assert axis_for(np.array([0.5, 100000.0, 200000.0])).floor == 100
    assert axis_for(np.array([0.0, 0.0])).floor == 1  # nothing positive


def test_portfolio_draws_zero_and_negative_customers_in_the_edge_band(reports_warehouse):
    """Classic value 2026: K1 50000, K2 8000, K3 2000, K4 0, K5 -500, K6 30000 (new, valued
    by its potential). Value transfer: K5 has none (0). So 2 customers at the left edge
    (floor 1000 €), 1 at the bottom edge (positive transfers 41.79 ... 1275.29: floor 10 €),
    and one new customer's marker."""
    fig, label = portfolio_figure(reports_warehouse, "2026")
    legend = _legend(fig)
    assert "am linken Rand: klassischer Wert unter 1.000\xa0€, auch 0 und negativ (2)" in legend
    assert "am unteren Rand: Wertetransfer unter 10\xa0€, auch 0 (1)" in legend
    assert "Neukunde, nach Potenzial bewertet (1)" in legend
    # K1 and K6 invest, K2 develop, K3 renegotiate, K4 and K5 opportunistic
    assert legend[:4] == ["Investitionskunden (2)", "Win-Win-Potenziale prüfen (1)",
                          "Problemgruppe: nachverhandeln (1)", "Opportunistisch betreuen (2)"]
    ax = fig.axes[0]
    left, right = ax.get_xlim()
    points = np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    # every customer is drawn inside the axes, none clipped: the two at the edge sit in it
    assert ((points[:, 0] >= left) & (points[:, 0] <= right)).all()
    assert (points[:, 0] < 1000).sum() >= 2
    # their true values are written beside them
    texts = _texts(fig)
    assert "0\xa0€" in texts and "-500\xa0€ / 0\xa0€" in texts
    assert any("Kundenwert-Portfolio 2026, Daten bis 22.11.2026" in t for t in texts)


def test_portfolio_in_english(reports_warehouse):
    fig, label = portfolio_figure(reports_warehouse, "2026", lang="en")
    assert label == "2026, data through 22 Nov 2026"
    legend = _legend(fig)
    assert "Investment customers (2)" in legend
    assert "at the left edge: classic value below €1,000, 0 and negative too (2)" in legend
    assert fig.axes[0].get_xlabel().startswith("Classic customer value")


def test_chart_command_writes_png_of_a_period(reports_warehouse, tmp_path, capsys):
    out = tmp_path / "p.png"
    assert main(["chart", "--warehouse", str(reports_warehouse), "--period", "2025",
                 "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    assert "portfolio chart of 2025 written" in capsys.readouterr().out
    assert main(["chart", "--kind", "whale", "--warehouse", str(reports_warehouse),
                 "--out", str(tmp_path / "w.png"), "--lang", "en"]) == 0
    assert "whale chart of 2026, data through 2026-11-22 written" in capsys.readouterr().out
    # the terminal speaks English with ISO dates, whatever the chart's language
    assert main(["chart", "--warehouse", str(reports_warehouse), "--out", str(out)]) == 0
    assert "portfolio chart of 2026, data through 2026-11-22 written" in capsys.readouterr().out
    assert main(["chart", "--warehouse", str(reports_warehouse), "--period", "1999",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert "no period '1999'" in capsys.readouterr().err


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_segment_label_comes_from_the_seed(reports_warehouse, lang):
    fig, _ = portfolio_figure(reports_warehouse, "2026", lang=lang)
    labels = [s.label_de if lang == "de" else s.label_en for s in seed_segments()]
    assert [entry.rsplit(" (", 1)[0] for entry in _legend(fig)[:4]] == labels


def test_band_edges_separate_the_bands():
    """Values 1..6 in terciles (bands 1, 1, 2, 2, 3, 3): the line between bands 1 and 2 lies
    between 2 and 3 (geometric mean sqrt(6) = 2.449...), between bands 2 and 3 between 4 and
    5 (sqrt(20) = 4.472...). Zero or negative neighbours: the arithmetic mean."""
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    edges = band_edges(values, np.array([1, 1, 2, 2, 3, 3]))
    assert edges == pytest.approx([6 ** 0.5, 20 ** 0.5])
    assert band_edges(np.array([-4.0, 0.0, 6.0]), np.array([1, 1, 2])) == [3.0]


def test_a_three_by_three_grid_is_drawn():
    """Nine customers, one in each cell of a 3x3 grid: 2 dotted lines per axis, the bands
    numbered 1 to 3 on both axes."""
    rows = [PortfolioRow(f"C{i}{j}", 10.0 ** (3 + i), 10.0 ** (2 + j), 1000.0, "invest", False,
                         10.0 ** 4, 10.0 ** 3, i + 1, j + 1)
            for i in range(3) for j in range(3)]
    seed = [Segment(s.segment, s.display_order, s.classic_value_level, s.value_transfer_level,
                    s.label_de, s.label_en, s.strategy, s.strategy_de) for s in seed_segments()]
    fig = draw_portfolio(rows, seed, "2026", "en", grid=True)
    dotted = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == ":"]
    assert len(dotted) == 4
    assert any(t.endswith("3×3 grid: quantile cut-offs per axis (dotted)") for t in _texts(fig))
    assert _texts(fig).count("3") >= 2  # band 3 on both axes
