//! The graph as a self-contained SVG, laid out by hand — no Graphviz at run
//! time, and the same picture for the same input.
//!
//! Columns, left to right: the ingress; the applications (one column per
//! level of calls between them) with the jobs under them; the datastores;
//! the external hosts. Each namespace is a horizontal band (a box) across the
//! in-cluster columns. Within a band, nodes follow the nodes calling them
//! (barycentre order), then their names. Edges are curves from the right side
//! of the caller to the left side of the callee, spread along each side;
//! labels sit in the gap before the callee and are pushed apart when they
//! would overlap.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::{Edge, Graph, Node, Role, State};

const MARGIN: f64 = 24.0;
const TITLE_H: f64 = 40.0;
const NODE_H: f64 = 44.0;
const ROW_GAP: f64 = 16.0;
const LANE_PAD: f64 = 16.0;
const LANE_HEAD: f64 = 24.0;
const LANE_GAP: f64 = 18.0;
const MIN_GAP: f64 = 90.0;
const LEGEND_H: f64 = 44.0;
const NAME_CHAR: f64 = 7.4;
const DETAIL_CHAR: f64 = 6.0;
const LABEL_CHAR: f64 = 5.8;
const LABEL_H: f64 = 14.0;
const MAX_TEXT: usize = 40;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A label cut to [`MAX_TEXT`] characters.
fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX_TEXT - 1).collect();
        format!("{head}…")
    }
}

fn node_width(n: &Node) -> f64 {
    let name = cut(&n.name).chars().count() as f64 * NAME_CHAR;
    let detail = cut(&n.detail).chars().count() as f64 * DETAIL_CHAR;
    (name.max(detail) + 28.0).max(130.0).round()
}

#[derive(Clone, Copy, Debug)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn mid_y(&self) -> f64 {
        self.y + self.h / 2.0
    }
}

/// Columns of the nodes: (node index → column), number of columns.
fn columns(g: &Graph, index: &HashMap<&str, usize>) -> (Vec<usize>, usize) {
    // Levels of calls between applications (longest path, cycles cut).
    let n = g.nodes.len();
    let mut depth = vec![0usize; n];
    let app_edges: Vec<(usize, usize)> = g
        .edges
        .iter()
        .filter_map(|e| Some((*index.get(e.from.as_str())?, *index.get(e.to.as_str())?)))
        .filter(|&(a, b)| g.nodes[a].role == Role::App && g.nodes[b].role == Role::App && a != b)
        .collect();
    let apps = g.nodes.iter().filter(|x| x.role == Role::App).count();
    for _ in 0..apps {
        let mut changed = false;
        for &(a, b) in &app_edges {
            if depth[b] < depth[a] + 1 && depth[a] + 1 < apps {
                depth[b] = depth[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let max_depth = g.nodes.iter().enumerate().filter(|(_, x)| x.role == Role::App).map(|(i, _)| depth[i]).max();
    let app_cols = max_depth.map_or(1, |d| d + 1);
    let raw: Vec<usize> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, x)| match x.role {
            Role::Ingress => 0,
            Role::App => 1 + depth[i],
            Role::Job => 1,
            Role::Datastore => 1 + app_cols,
            Role::External => 2 + app_cols,
        })
        .collect();
    // Drop empty columns.
    let mut used: Vec<usize> = raw.clone();
    used.sort_unstable();
    used.dedup();
    let map: BTreeMap<usize, usize> = used.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    (raw.iter().map(|c| map[c]).collect(), used.len())
}

/// The edges between known nodes: (caller, callee, edge), by node index.
type Edges<'g> = [(usize, usize, &'g Edge)];

/// The nodes of one namespace band, by column.
type Lane<'g> = (&'g str, Vec<Vec<usize>>);

/// A namespace band as drawn: namespace, top, height.
type Band<'g> = (&'g str, f64, f64);

/// Where the columns and the nodes go.
struct Layout {
    /// The column of each node.
    col: Vec<usize>,
    /// The left side of each column.
    xs: Vec<f64>,
    /// The width of each column (its widest node).
    widths: Vec<f64>,
    /// The box of each node.
    rects: Vec<Rect>,
}

/// The side of a node an edge leaves or enters by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Side {
    Left,
    Right,
}

/// Where each edge leaves and enters.
struct Ends {
    /// The sides of the caller and of the callee, by edge.
    sides: Vec<(Side, Side)>,
    /// The points, by (edge, whether it is the start).
    points: HashMap<(usize, bool), (f64, f64)>,
}

/// Edge labels before merging: by (callee, text, state), each edge's label position.
type LabelGroups<'g> = BTreeMap<(usize, String, State), Vec<(f64, f64, &'g Edge)>>;

/// A label to draw: centre x, centre y, width, and an edge it names.
type Label<'g> = (f64, f64, f64, &'g Edge);

pub fn render(g: &Graph) -> String {
    let index: HashMap<&str, usize> = g.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    let edges: Vec<(usize, usize, &Edge)> =
        g.edges.iter().filter_map(|e| Some((*index.get(e.from.as_str())?, *index.get(e.to.as_str())?, e))).collect();
    let (col, ncols) = columns(g, &index);
    let widths = column_widths(g, &col, ncols);
    let (xs, right) = column_xs(&edges, &col, &widths);
    let width = (right + LANE_PAD + MARGIN).max(MARGIN * 2.0 + LEGEND.iter().map(|l| legend_step(l.0)).sum::<f64>());

    // Rows: each namespace is a band; inside it, each column stacks its nodes.
    let lanes = lanes(g, &edges, &col, ncols);
    let mut layout = Layout { col, xs, widths, rects: vec![Rect { x: 0.0, y: 0.0, w: 0.0, h: 0.0 }; g.nodes.len()] };
    let (bands, lanes_bottom) = place_lanes(&lanes, &mut layout);
    let bottom = place_outside_lanes(g, &edges, &mut layout, lanes_bottom);
    let height = bottom + LANE_GAP + LEGEND_H + MARGIN;
    let ends = edge_ends(&edges, &layout);

    let mut out = String::new();
    head(&mut out, &g.title, width, height);
    draw_bands(&mut out, g, &layout, &bands);
    // Edges, then nodes over them, then the labels over everything.
    let labels = draw_edges(&mut out, g, &edges, &layout, &ends);
    for (i, n) in g.nodes.iter().enumerate() {
        draw_node(&mut out, n, layout.rects[i]);
    }
    draw_labels(&mut out, labels);
    legend(&mut out, height - MARGIN - LEGEND_H + 12.0);
    out.push_str("</svg>\n");
    out
}

/// The width of each column: that of its widest node.
fn column_widths(g: &Graph, col: &[usize], ncols: usize) -> Vec<f64> {
    (0..ncols)
        .map(|c| {
            g.nodes.iter().enumerate().filter(|(i, _)| col[*i] == c).map(|(_, n)| node_width(n)).fold(0.0, f64::max)
        })
        .collect()
}

/// The left side of each column, and the right side of the last.
fn column_xs(edges: &Edges, col: &[usize], widths: &[f64]) -> (Vec<f64>, f64) {
    let ncols = widths.len();
    // The gap before each column holds the labels of the edges ending there.
    let mut gaps = vec![MIN_GAP; ncols];
    for &(a, b, e) in edges {
        if col[b] > col[a] {
            let w = e.label().chars().count() as f64 * LABEL_CHAR + 36.0;
            gaps[col[b]] = gaps[col[b]].max(w.round());
        }
    }
    let mut xs = vec![0.0; ncols];
    let mut x = MARGIN + LANE_PAD;
    for c in 0..ncols {
        if c > 0 {
            x += gaps[c];
        }
        xs[c] = x;
        x += widths[c];
    }
    (xs, x)
}

/// The namespace bands with their nodes by column, each cell in order.
fn lanes<'g>(g: &'g Graph, edges: &Edges, col: &[usize], ncols: usize) -> Vec<Lane<'g>> {
    let mut lanes: Vec<Lane> = Vec::new();
    for ns in g.namespaces() {
        let mut cells: Vec<Vec<usize>> = vec![Vec::new(); ncols];
        for (i, n) in g.nodes.iter().enumerate() {
            if n.namespace.as_deref() == Some(ns) {
                cells[col[i]].push(i);
            }
        }
        lanes.push((ns, cells));
    }
    order_cells(g, edges, ncols, &mut lanes);
    lanes
}

/// Orders the nodes within cells, column by column, so that callers come
/// first: jobs last, then by the mean order of their callers, then by name.
fn order_cells(g: &Graph, edges: &Edges, ncols: usize, lanes: &mut [Lane]) {
    let preds: Vec<Vec<usize>> = {
        let mut p = vec![Vec::new(); g.nodes.len()];
        for &(a, b, _) in edges {
            p[b].push(a);
        }
        p
    };
    let mut order: Vec<f64> = vec![f64::MAX; g.nodes.len()];
    let mut seq = 0.0;
    for c in 0..ncols {
        for (_, cells) in lanes.iter_mut() {
            let cell = &mut cells[c];
            let bary = |i: usize| -> f64 {
                let known: Vec<f64> = preds[i].iter().map(|&p| order[p]).filter(|o| *o < f64::MAX).collect();
                if known.is_empty() { f64::MAX } else { known.iter().sum::<f64>() / known.len() as f64 }
            };
            let mut keyed: Vec<(u8, f64, &str, usize)> = cell
                .iter()
                .map(|&i| (u8::from(g.nodes[i].role == Role::Job), bary(i), g.nodes[i].name.as_str(), i))
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(b.2)).then(a.3.cmp(&b.3)));
            *cell = keyed.into_iter().map(|k| k.3).collect();
            for &i in cell.iter() {
                order[i] = seq;
                seq += 1.0;
            }
        }
    }
}

/// Places the nodes of the bands, one band under the other, each column's
/// nodes centred in its band. Returns the bands and the bottom of the last.
fn place_lanes<'g>(lanes: &[Lane<'g>], layout: &mut Layout) -> (Vec<Band<'g>>, f64) {
    let step = NODE_H + ROW_GAP;
    let mut y = MARGIN + TITLE_H;
    let mut bands: Vec<Band> = Vec::new();
    for (ns, cells) in lanes {
        let rows = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let inner = rows as f64 * step - ROW_GAP;
        let top = y + LANE_HEAD;
        for (c, cell) in cells.iter().enumerate() {
            let offset = (inner - (cell.len() as f64 * step - ROW_GAP)) / 2.0;
            for (r, &i) in cell.iter().enumerate() {
                let w = layout.widths[c];
                layout.rects[i] = Rect { x: layout.xs[c], y: top + offset + r as f64 * step, w, h: NODE_H };
            }
        }
        let h = LANE_HEAD + inner + LANE_PAD;
        bands.push((ns, y, h));
        y += h + LANE_GAP;
    }
    let bottom = if bands.is_empty() { y } else { y - LANE_GAP };
    (bands, bottom)
}

/// Places the nodes outside the bands (ingress, external): near the middle
/// of what they connect to, without overlapping. Returns the lowest bottom
/// of everything placed.
fn place_outside_lanes(g: &Graph, edges: &Edges, layout: &mut Layout, lanes_bottom: f64) -> f64 {
    let step = NODE_H + ROW_GAP;
    let mut bottom = lanes_bottom;
    for c in 0..layout.xs.len() {
        let rects = &layout.rects;
        let mut free: Vec<(f64, &str, usize)> = g
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| layout.col[*i] == c && n.namespace.is_none())
            .map(|(i, n)| {
                let peers: Vec<f64> = edges
                    .iter()
                    .filter_map(|&(a, b, _)| {
                        if a == i && g.nodes[b].namespace.is_some() {
                            Some(rects[b].mid_y())
                        } else if b == i && g.nodes[a].namespace.is_some() {
                            Some(rects[a].mid_y())
                        } else {
                            None
                        }
                    })
                    .collect();
                let want = if peers.is_empty() {
                    MARGIN + TITLE_H + LANE_HEAD
                } else {
                    peers.iter().sum::<f64>() / peers.len() as f64 - NODE_H / 2.0
                };
                (want, n.name.as_str(), i)
            })
            .collect();
        free.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)).then(a.2.cmp(&b.2)));
        let mut next = MARGIN + TITLE_H;
        for (want, _, i) in free {
            let top = want.max(next);
            layout.rects[i] = Rect { x: layout.xs[c], y: top, w: layout.widths[c], h: NODE_H };
            next = top + step;
            bottom = bottom.max(top + NODE_H);
        }
    }
    bottom
}

/// Edge ends, spread along the side of each node in the order of the
/// heights of the other ends.
fn edge_ends(edges: &Edges, layout: &Layout) -> Ends {
    let (col, rects) = (&layout.col, &layout.rects);
    let sides: Vec<(Side, Side)> = edges
        .iter()
        .map(|&(a, b, _)| match col[b].cmp(&col[a]) {
            std::cmp::Ordering::Greater => (Side::Right, Side::Left),
            std::cmp::Ordering::Less => (Side::Left, Side::Right),
            std::cmp::Ordering::Equal => (Side::Right, Side::Right),
        })
        .collect();
    type Slots = HashMap<(usize, Side), Vec<(f64, usize, bool)>>;
    let mut slots: Slots = HashMap::new();
    for (k, &(a, b, _)) in edges.iter().enumerate() {
        slots.entry((a, sides[k].0)).or_default().push((rects[b].mid_y(), k, true));
        slots.entry((b, sides[k].1)).or_default().push((rects[a].mid_y(), k, false));
    }
    let mut points: HashMap<(usize, bool), (f64, f64)> = HashMap::new();
    for ((node, side), mut list) in slots {
        list.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)).then(p.2.cmp(&q.2)));
        let r = rects[node];
        let n = list.len() as f64;
        for (j, (_, k, start)) in list.into_iter().enumerate() {
            let yy = r.y + r.h * (j as f64 + 1.0) / (n + 1.0);
            let xx = if side == Side::Left { r.x } else { r.x + r.w };
            points.insert((k, start), (xx, yy));
        }
    }
    Ends { sides, points }
}

/// The `<svg>` element's opening, the title, the arrow heads and the
/// background.
fn head(out: &mut String, title: &str, width: f64, height: f64) {
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif">"#,
        w = width.round(),
        h = height.round()
    );
    let _ = writeln!(out, "<title>{}</title>", esc(title));
    out.push_str("<defs>\n");
    for (state, color) in [("allowed", "#2e7d32"), ("blocked", "#c62828"), ("unknown", "#ef6c00")] {
        let _ = writeln!(
            out,
            r#"<marker id="arrow-{state}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>"#
        );
    }
    out.push_str("</defs>\n");
    let _ =
        writeln!(out, r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##, width.round(), height.round());
    let _ = writeln!(
        out,
        r##"<text x="{MARGIN}" y="{}" font-size="16" font-weight="bold" fill="#263238">{}</text>"##,
        MARGIN + 16.0,
        esc(title)
    );
}

/// The namespace boxes, each across every column that holds namespaced
/// nodes.
fn draw_bands(out: &mut String, g: &Graph, layout: &Layout, bands: &[Band]) {
    let (col, xs, widths) = (&layout.col, &layout.xs, &layout.widths);
    let lane_cols: Vec<usize> = (0..xs.len())
        .filter(|&c| g.nodes.iter().enumerate().any(|(i, n)| col[i] == c && n.namespace.is_some()))
        .collect();
    let lane_x0 = lane_cols.first().map_or(MARGIN, |&c| xs[c] - LANE_PAD);
    let lane_x1 = lane_cols.last().map_or(MARGIN, |&c| xs[c] + widths[c] + LANE_PAD);
    for (ns, top, h) in bands {
        let _ = writeln!(
            out,
            r##"<g class="namespace"><rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{h:.1}" rx="10" fill="#f7f9fa" stroke="#90a4ae" stroke-dasharray="5 3"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#546e7a">namespace {}</text></g>"##,
            lane_x0,
            lane_x1 - lane_x0,
            lane_x0 + 10.0,
            top + 16.0,
            esc(ns)
        );
    }
}

/// Draws the edges; returns their labels, merged.
fn draw_edges<'g>(out: &mut String, g: &Graph, edges: &Edges<'g>, layout: &Layout, ends: &Ends) -> Vec<Label<'g>> {
    let mut groups: LabelGroups = BTreeMap::new();
    let mut by_col: Vec<Vec<Rect>> = vec![Vec::new(); layout.xs.len()];
    for (i, r) in layout.rects.iter().enumerate() {
        by_col[layout.col[i]].push(*r);
    }
    for (k, &(a, b, e)) in edges.iter().enumerate() {
        let start = ends.points[&(k, true)];
        let end = ends.points[&(k, false)];
        let (d, (lx, ly)) = if ends.sides[k] == (Side::Right, Side::Left) {
            // Forward: the label just above the callee's entry.
            let text_w = e.label().chars().count() as f64 * LABEL_CHAR + 8.0;
            let r = layout.rects[b];
            let d = forward_path(layout, &by_col, (layout.col[a], layout.col[b]), start, end);
            (d, (r.x - 8.0 - text_w / 2.0, r.y - LABEL_H / 2.0 + 3.0))
        } else {
            curve(ends.sides[k], start, end)
        };
        let state = e.state.word();
        let (color, dash, widthp) = match e.state {
            State::Allowed => ("#2e7d32", "", 1.4),
            State::Blocked => ("#c62828", r#" stroke-dasharray="6 4""#, 1.8),
            State::Unknown => ("#ef6c00", r#" stroke-dasharray="2 3""#, 1.4),
        };
        let why = if e.why.is_empty() { String::new() } else { format!(": {}", e.why) };
        let _ = writeln!(
            out,
            r#"<g class="edge {state}"><title>{} → {} {state}{}</title><path d="{d}" fill="none" stroke="{color}" stroke-width="{widthp}"{dash} marker-end="url(#arrow-{state})"/></g>"#,
            esc(&g.nodes[a].name),
            esc(&g.nodes[b].name),
            esc(&why),
        );
        if !e.label().is_empty() {
            groups.entry((b, e.label(), e.state)).or_default().push((lx, ly, e));
        }
    }
    merge_labels(groups)
}

/// The path of a forward edge from column `cols.0` to `cols.1`: through the
/// free rows of the columns it crosses.
fn forward_path(
    layout: &Layout,
    by_col: &[Vec<Rect>],
    cols: (usize, usize),
    (x0, y0): (f64, f64),
    (x3, y3): (f64, f64),
) -> String {
    let mut pts = vec![(x0, y0)];
    for (c, column) in by_col.iter().enumerate().take(cols.1).skip(cols.0 + 1) {
        let (xl, xr) = (layout.xs[c] - 10.0, layout.xs[c] + layout.widths[c] + 10.0);
        let t = ((xl + xr) / 2.0 - x0) / (x3 - x0);
        let yc = free_y(column, y0 + t * (y3 - y0));
        pts.push((xl, yc));
        pts.push((xr, yc));
    }
    pts.push((x3, y3));
    let mut d = format!("M{x0:.1},{y0:.1}");
    for (j, w) in pts.windows(2).enumerate() {
        let ((px, py), (qx, qy)) = (w[0], w[1]);
        if j % 2 == 1 {
            let _ = write!(d, " L{qx:.1},{qy:.1}");
        } else {
            let dx = ((qx - px) / 2.0).max(20.0);
            let _ = write!(d, " C{:.1},{py:.1} {:.1},{qy:.1} {qx:.1},{qy:.1}", px + dx, qx - dx);
        }
    }
    d
}

/// The path of a backward edge (left side to right side) or of one within a
/// column (a bulge to the right), and the point halfway along it.
fn curve(sides: (Side, Side), (x0, y0): (f64, f64), (x3, y3): (f64, f64)) -> (String, (f64, f64)) {
    let (c1, c2) = if sides == (Side::Left, Side::Right) {
        let dx = ((x0 - x3) / 2.0).max(30.0);
        ((x0 - dx, y0), (x3 + dx, y3))
    } else {
        let bulge = 40.0 + (y3 - y0).abs() / 4.0;
        ((x0 + bulge, y0), (x3 + bulge, y3))
    };
    let d = format!("M{x0:.1},{y0:.1} C{:.1},{:.1} {:.1},{:.1} {x3:.1},{y3:.1}", c1.0, c1.1, c2.0, c2.1);
    let mid = ((x0 + 3.0 * c1.0 + 3.0 * c2.0 + x3) / 8.0, (y0 + 3.0 * c1.1 + 3.0 * c2.1 + y3) / 8.0);
    (d, mid)
}

/// One label per callee and text: edges converging on a node with the
/// same port share it, at their mean position.
fn merge_labels(groups: LabelGroups) -> Vec<Label> {
    groups
        .into_iter()
        .map(|((_, text, _), list)| {
            let n = list.len() as f64;
            let lx = list.iter().map(|l| l.0).sum::<f64>() / n;
            let ly = list.iter().map(|l| l.1).sum::<f64>() / n;
            (lx, ly, text.chars().count() as f64 * LABEL_CHAR + 8.0, list[0].2)
        })
        .collect()
}

/// Draws the labels, lowest first, each pushed up where it would overlap
/// one already drawn.
fn draw_labels(out: &mut String, mut labels: Vec<Label>) {
    labels.sort_by(|p, q| q.1.total_cmp(&p.1).then(p.0.total_cmp(&q.0)).then(p.3.label().cmp(&q.3.label())));
    let mut placed: Vec<(f64, f64, f64)> = Vec::new();
    for (lx, ly, w, e) in labels {
        let mut top = ly - LABEL_H / 2.0;
        loop {
            let hit = placed.iter().find(|(px, py, pw)| {
                (lx - px).abs() < (w + pw) / 2.0 && top < py + LABEL_H + 1.0 && top + LABEL_H + 1.0 > *py
            });
            match hit {
                Some((_, py, _)) => top = py - LABEL_H - 1.0,
                None => break,
            }
        }
        placed.push((lx, top, w));
        let color = match e.state {
            State::Allowed => "#2e7d32",
            State::Blocked => "#c62828",
            State::Unknown => "#ef6c00",
        };
        let _ = writeln!(
            out,
            r##"<g class="label"><rect x="{:.1}" y="{top:.1}" width="{w:.1}" height="{LABEL_H}" rx="3" fill="#ffffff" fill-opacity="0.9"/><text x="{lx:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="{color}">{}</text></g>"##,
            lx - w / 2.0,
            top + 10.5,
            esc(&e.label())
        );
    }
}

/// A height near `want` where a line crosses a column without going
/// through one of its nodes: `want` itself, or the middle of the gap above
/// or below the node in the way.
fn free_y(column: &[Rect], want: f64) -> f64 {
    let hits = |y: f64| column.iter().find(|r| y > r.y - 4.0 && y < r.y + r.h + 4.0).copied();
    let Some(r) = hits(want) else { return want };
    let above = r.y - ROW_GAP / 2.0;
    let below = r.y + r.h + ROW_GAP / 2.0;
    let (first, second) = if want - above <= below - want { (above, below) } else { (below, above) };
    if hits(first).is_none() {
        first
    } else if hits(second).is_none() {
        second
    } else {
        want
    }
}

fn draw_node(out: &mut String, n: &Node, r: Rect) {
    let (fill, stroke, extra) = match n.role {
        Role::Ingress => ("#e3f2fd", "#1565c0", r#" stroke-width="2""#),
        Role::App => ("#ffffff", "#455a64", r#" stroke-width="1.3""#),
        Role::Job => ("#eceff1", "#78909c", r#" stroke-dasharray="4 2""#),
        Role::Datastore => ("#fff8e1", "#f9a825", r#" stroke-width="1.5""#),
        Role::External => ("#f3e5f5", "#7b1fa2", r#" stroke-dasharray="5 3""#),
    };
    let kind = match n.role {
        Role::Ingress => "ingress",
        Role::App => "workload",
        Role::Job => "job",
        Role::Datastore => "datastore",
        Role::External => "external",
    };
    let tip = match &n.namespace {
        Some(ns) => format!("{} {ns}/{}", n.detail, n.name),
        None => format!("{} {}", n.name, n.detail),
    };
    let _ = write!(out, r#"<g class="node {kind}" data-id="{}"><title>{}</title>"#, esc(&n.id), esc(tip.trim()));
    if n.role == Role::Datastore {
        // A cylinder.
        let e = 5.0;
        let _ = write!(
            out,
            r#"<path d="M{x:.1},{y1:.1} A{rx:.1},{e} 0 0,1 {x2:.1},{y1:.1} V{y3:.1} A{rx:.1},{e} 0 0,1 {x:.1},{y3:.1} Z" fill="{fill}" stroke="{stroke}"{extra}/><path d="M{x:.1},{y1:.1} A{rx:.1},{e} 0 0,0 {x2:.1},{y1:.1}" fill="none" stroke="{stroke}"{extra}/>"#,
            x = r.x,
            x2 = r.x + r.w,
            y1 = r.y + e,
            y3 = r.y + r.h - e,
            rx = r.w / 2.0,
        );
    } else {
        let rx = if n.role == Role::External { 14.0 } else { 6.0 };
        let _ = write!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="{rx}" fill="{fill}" stroke="{stroke}"{extra}/>"#,
            r.x, r.y, r.w, r.h
        );
    }
    let cx = r.x + r.w / 2.0;
    let _ = write!(
        out,
        r##"<text x="{cx:.1}" y="{:.1}" font-size="12" font-weight="bold" text-anchor="middle" fill="#263238">{}</text>"##,
        r.y + if n.detail.is_empty() { 27.0 } else { 20.0 },
        esc(&cut(&n.name))
    );
    if !n.detail.is_empty() {
        let _ = write!(
            out,
            r##"<text x="{cx:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#607d8b">{}</text>"##,
            r.y + 35.0,
            esc(&cut(&n.detail))
        );
    }
    out.push_str("</g>\n");
}

/// The legend: what each kind of edge means.
const LEGEND: &[(&str, &str, &str)] = &[
    ("allowed by the network policies", "#2e7d32", ""),
    ("blocked", "#c62828", r#" stroke-dasharray="6 4""#),
    ("unknown (depends on what the manifests do not show)", "#ef6c00", r#" stroke-dasharray="2 3""#),
];

fn legend_step(word: &str) -> f64 {
    50.0 + word.len() as f64 * 6.0
}

fn legend(out: &mut String, y: f64) {
    let mut x = MARGIN;
    out.push_str(r##"<g class="legend" font-size="11" fill="#455a64">"##);
    for &(word, color, dash) in LEGEND {
        let _ = write!(
            out,
            r#"<path d="M{x:.1},{y:.1} H{:.1}" stroke="{color}" stroke-width="1.6"{dash} marker-end="url(#arrow-{})"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            x + 34.0,
            word.split(' ').next().unwrap_or(word),
            x + 42.0,
            y + 4.0,
            esc(word)
        );
        x += legend_step(word);
    }
    out.push_str("</g>\n");
}
