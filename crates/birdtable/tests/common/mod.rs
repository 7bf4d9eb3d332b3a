//! Helpers shared by the table tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering as AO};
use std::sync::Arc;

use birdevent::{Callback, Event, EventList};
use birdloop::{Clock, ThreadGroup, Time};
use birdnet::Net;
use birdtable::attrs::{AttrSet, Attrs, Dest, RouteSource};
use birdtable::route::ecmp_set;
use birdtable::{Export, ExportMode, Route, RouteClass, RouteSrc, Table};

/// Lower `igp_metric` is better; ties broken by source key (lower first), so the order is total.
/// Equal metrics are mergeable (ECMP).
#[derive(Debug)]
pub struct MetricClass;

impl RouteClass for MetricClass {
    fn name(&self) -> &'static str {
        "metric"
    }

    fn compare(&self, a: &Route, b: &Route) -> Ordering {
        metric(b).cmp(&metric(a)).then_with(|| b.src().key().cmp(&a.src().key()))
    }

    fn mergeable(&self, best: &Route, other: &Route) -> bool {
        metric(best) == metric(other)
    }
}

pub fn metric_class() -> Arc<dyn RouteClass> {
    Arc::new(MetricClass)
}

pub fn metric(r: &Route) -> u32 {
    r.attrs().igp_metric.unwrap_or(u32::MAX)
}

pub fn attrs(metric: u32) -> Attrs {
    let mut s = AttrSet::new(RouteSource::Static, Dest::Blackhole);
    s.igp_metric = Some(metric);
    s.intern()
}

pub fn net(s: &str) -> Net {
    s.parse().unwrap()
}

pub fn det_group(name: &str) -> ThreadGroup {
    ThreadGroup::deterministic(name, Clock::virtual_at(Time::ZERO)).unwrap()
}

/// A callback on a private list that only counts activations.
pub fn counting_callback(name: &'static str) -> (Callback, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let ev = Event::new(name, move || {
        n2.fetch_add(1, AO::Relaxed);
    });
    let list = EventList::new(name);
    (Callback::new(ev, list), n)
}

/// Run a private list's events (for `counting_callback`).
pub fn run_list(cb: &Callback) {
    while cb.target.run(EventList::UNLIMITED) {}
}

/// What one subscriber believes the table holds, built only from what it read. `apply` checks exactness:
/// an update must apply to exactly the state the subscriber has (no duplicate, no missing update).
#[derive(Debug)]
pub struct View {
    pub mode: ExportMode,
    pub nets: BTreeMap<Net, Vec<Route>>,
    pub fed: usize,
    pub updates: usize,
}

impl View {
    pub fn new(mode: ExportMode) -> View {
        View { mode, nets: BTreeMap::new(), fed: 0, updates: 0 }
    }

    pub fn apply(&mut self, e: &Export) -> Result<(), String> {
        match e {
            Export::Feed { net, routes, .. } => {
                if routes.is_empty() {
                    self.nets.remove(net);
                } else {
                    self.nets.insert(*net, routes.clone());
                }
            }
            Export::Update { net, old, new, seq, .. } => {
                self.updates += 1;
                let cur = self.nets.entry(*net).or_default();
                match self.mode {
                    ExportMode::Best => {
                        let have = cur.first().map(|r| r.id());
                        if have != old.as_ref().map(Route::id) {
                            return Err(format!(
                                "{net} seq {seq}: best update from {:?} but view has {:?}",
                                old.as_ref().map(Route::id),
                                have
                            ));
                        }
                        cur.clear();
                        cur.extend(new.iter().cloned());
                    }
                    ExportMode::All => {
                        if let Some(o) = old {
                            let Some(i) = cur.iter().position(|r| r.src() == o.src()) else {
                                return Err(format!(
                                    "{net} seq {seq}: withdraw of {:?} not in view",
                                    o.src()
                                ));
                            };
                            if cur[i].id() != o.id() {
                                return Err(format!(
                                    "{net} seq {seq}: old route {:?} but view has {:?}",
                                    o.id(),
                                    cur[i].id()
                                ));
                            }
                            cur.remove(i);
                        }
                        if let Some(n) = new {
                            if cur.iter().any(|r| r.src() == n.src()) {
                                return Err(format!("{net} seq {seq}: duplicate route of {:?}", n.src()));
                            }
                            cur.push(n.clone());
                        }
                    }
                    ExportMode::Merged => return Err("update in merged mode".into()),
                }
                if cur.is_empty() {
                    self.nets.remove(net);
                }
            }
            Export::Fed => self.fed += 1,
            Export::Stop => self.nets.clear(),
        }
        Ok(())
    }

    /// Route ids per net, order-insensitive.
    pub fn ids(&self) -> BTreeMap<Net, Vec<u32>> {
        self.nets
            .iter()
            .map(|(n, rs)| {
                let mut v: Vec<u32> = rs.iter().map(|r| r.id().0).collect();
                v.sort_unstable();
                (*n, v)
            })
            .collect()
    }
}

/// What a subscriber of `mode` should hold: from a lock-free walk of the table.
pub fn expected_ids(table: &Table, mode: ExportMode) -> BTreeMap<Net, Vec<u32>> {
    let mut out = BTreeMap::new();
    table.walk(|_, l| {
        let rs: Vec<Route> = match mode {
            ExportMode::Best => l.best().cloned().into_iter().collect(),
            ExportMode::All => l.routes().iter().filter(|r| r.is_valid()).cloned().collect(),
            ExportMode::Merged => ecmp_set(l.routes()),
        };
        if !rs.is_empty() {
            let mut v: Vec<u32> = rs.iter().map(|r| r.id().0).collect();
            v.sort_unstable();
            out.insert(l.net(), v);
        }
        std::ops::ControlFlow::Continue(())
    });
    out
}

/// A source key, a preference and a metric: a route in model terms.
pub type ModelRoute = ((u64, u32), u16, u32);
/// One net of the model: src key -> (pref, metric).
pub type NetModel = HashMap<(u64, u32), (u16, u32)>;
/// Per net, model routes.
pub type ModelView = BTreeMap<Net, Vec<ModelRoute>>;

/// A sequential model of a table: per net, per source key, (metric, pref).
#[derive(Debug, Default, Clone)]
pub struct Model {
    /// net -> src key -> (pref, metric)
    pub nets: HashMap<Net, NetModel>,
}

impl Model {
    pub fn import(&mut self, net: Net, src: &RouteSrc, pref: u16, metric: u32) {
        self.nets.entry(net).or_default().insert(src.key(), (pref, metric));
    }

    pub fn withdraw(&mut self, net: Net, src: &RouteSrc) {
        if let Some(m) = self.nets.get_mut(&net) {
            m.remove(&src.key());
            if m.is_empty() {
                self.nets.remove(&net);
            }
        }
    }

    /// Per net, the (src key, pref, metric) of the routes a subscriber of `mode` should hold, sorted.
    pub fn expected(&self, mode: ExportMode) -> ModelView {
        let mut out = BTreeMap::new();
        for (net, m) in &self.nets {
            let mut v: Vec<ModelRoute> = m.iter().map(|(k, &(p, me))| (*k, p, me)).collect();
            // best first: pref desc, metric asc, src key asc
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
            let v = match mode {
                ExportMode::All => {
                    let mut v = v;
                    v.sort();
                    v
                }
                ExportMode::Best => v.into_iter().take(1).collect(),
                ExportMode::Merged => {
                    let (bp, bm) = (v[0].1, v[0].2);
                    let mut v: Vec<_> = v.into_iter().filter(|e| e.1 == bp && e.2 == bm).collect();
                    v.sort();
                    v
                }
            };
            out.insert(*net, v);
        }
        out
    }
}

/// A view's routes in the model's terms.
pub fn view_as_model(view: &View) -> ModelView {
    view.nets
        .iter()
        .map(|(n, rs)| {
            let mut v: Vec<_> = rs.iter().map(|r| (r.src().key(), r.pref(), metric(r))).collect();
            if view.mode != ExportMode::Best {
                v.sort();
            }
            (*n, v)
        })
        .collect()
}
