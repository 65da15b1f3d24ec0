//! The model every command shares: Kubernetes objects as read, with the
//! source position of every field, and the analysis that more than one
//! command needs (checks, `reach`, `graph`, `budget`, `gen`'s proof).
//!
//! - [`load`]: files, folders and stdin → [`Object`]s that keep their positions.
//! - [`object`]: [`Object`], [`Source`] and [`Loaded`].
//! - [`gvk`]: group, version and kind; which kinds are cluster-scoped.
//! - [`builtin`]: the objects every cluster has (bootstrap RBAC, `default` accounts).
//! - [`immutable`]: what the API server refuses to change in place, and what loses data.
//! - [`pointer`](mod@pointer): JSON pointer lookups ([`At`]) and escaping.
//! - [`index`]: lookups across objects by name and by labels, built once.
//! - [`pods`]: the pod templates inside any workload kind, and their containers.
//! - [`operators`]: custom resources whose operator makes pods, and those pods' labels.
//! - [`schema`]: the vendored Kubernetes and CRD schemas, and validation against them.
//! - [`quantity`], [`duration`], [`cron`]: Kubernetes quantities, Go/Prometheus durations, cron schedules.
//! - [`selector`]: label selectors and why one selects nothing.
//! - [`ports`]: ports of Services, pods and probes, by number or name.
//! - [`histogram`]: the `le` buckets a Service declares, and the one a matcher selects.
//! - [`promql`]: PromQL bounded in length and depth before it is parsed.
//! - [`env`](mod@env): the variables a container sees, and names that hold credentials.
//! - [`credential`]: values that are credentials by their shape, whatever their name.
//! - [`features`]: fields and values Kubernetes honours only from some release on, with their releases.
//! - [`hosts`]: host names in configuration values, and the Services they name.
//! - [`scope`]: what the set shows of the cluster (namespaces with pods, operators' resources).
//! - [`netpol`]: what NetworkPolicies allow between pods.
//! - [`authz`]: what Istio PeerAuthentication and AuthorizationPolicies let a caller request.
//! - [`resources`]: requests, limits and storage per workload and namespace; LimitRange defaults.
//!
//! [`Manifests`] ties one run's objects to the index and pod templates over
//! them; checks see it through their `Context`.

#[cfg(test)]
pub(crate) mod allocated;
pub mod authz;
pub mod builtin;
pub mod credential;
pub mod cron;
pub mod digest;
pub mod duration;
pub mod env;
pub mod features;
pub mod finding;
pub mod gvk;
pub mod histogram;
pub mod hosts;
pub mod immutable;
pub mod index;
pub mod load;
pub mod memo;
pub mod netpol;
pub mod object;
pub mod operators;
pub mod pods;
pub mod pointer;
pub mod policy_table;
pub mod ports;
pub mod promql;
pub mod quantity;
pub mod resources;
pub mod schema;
pub mod scope;
pub mod selector;
pub mod value;

pub use gvk::Gvk;
pub use index::Index;
pub use object::{Loaded, Object, Source};
pub use pods::Pod;
pub use pointer::At;
pub use value::Value;

/// RFC 1123 label: namespaces, volume names, environment names, the parts
/// of a host name.
pub fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// One run's objects with what is derived from them once: the index and
/// every pod template.
pub struct Manifests<'a> {
    pub objects: &'a [Object],
    pub sources: Sources<'a>,
    pub index: Index<'a>,
    pods: Vec<Pod<'a>>,
}

/// The inputs objects come from: every input of a run, or the one input a
/// document being read comes from (see [`load::Early`]).
#[derive(Clone, Copy, Debug)]
pub enum Sources<'a> {
    All(&'a [Source]),
    One { id: usize, name: &'a std::path::Path, text: &'a str },
}

impl<'a> Sources<'a> {
    /// The name and text of input `id`.
    pub fn get(&self, id: usize) -> Option<(&'a std::path::Path, &'a str)> {
        match *self {
            Sources::All(all) => all.get(id).map(|s| (s.name.as_path(), s.text.as_str())),
            Sources::One { id: one, name, text } => (one == id).then_some((name, text)),
        }
    }
}

impl<'a> Manifests<'a> {
    pub fn new(loaded: &'a Loaded) -> Manifests<'a> {
        Manifests::with_operators(loaded, &operators::BUILTIN)
    }

    /// As [`Manifests::new`], knowing the pods the operators of `makers`
    /// create (the built-in ones and a configuration's).
    pub fn with_operators(loaded: &'a Loaded, makers: &[operators::PodMaker]) -> Manifests<'a> {
        Manifests::of(&loaded.objects, Sources::All(&loaded.sources), makers)
    }

    /// [`Manifests::with_operators`] over some objects and where they come from.
    pub fn of(objects: &'a [Object], sources: Sources<'a>, makers: &[operators::PodMaker]) -> Manifests<'a> {
        Manifests { objects, sources, index: Index::build(objects, makers), pods: pods::all(objects).collect() }
    }

    /// Every pod template of the objects, in object order.
    pub fn pods(&self) -> impl Iterator<Item = Pod<'a>> + '_ {
        self.pods.iter().copied()
    }

    pub fn source_name(&self, source: usize) -> std::path::Display<'a> {
        self.sources.get(source).map_or(std::path::Path::new("?"), |(name, _)| name).display()
    }
}
