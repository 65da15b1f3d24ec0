//! KP2xx: availability, scaling and disruption — resources, probes, replica
//! counts, autoscalers, disruption budgets and rollouts. Cross-object checks
//! resolve an HPA's `scaleTargetRef` and the pods a PDB or Service selects
//! through the index (see [`support`]).

use crate::check::Check;

pub(crate) mod support;

mod hpa_fights_replicas;
mod hpa_min_above_max;
mod hpa_without_requests;
mod identical_probes;
mod liveness_without_startup;
mod missing_liveness_probe;
mod missing_memory_limit;
mod missing_readiness_probe;
mod missing_requests;
mod pdb_blocks_eviction;
mod pdb_selects_nothing;
mod pods_in_several_budgets;
mod prestop_outlasts_grace;
mod probe_port_undeclared;
mod replicas_not_spread;
mod requests_exceed_limits;
mod rollout_takes_all_down;
mod selector_mismatch;
mod single_replica_with_budget;

pub const CHECKS: &[&dyn Check] = &[
    &missing_requests::MissingRequests,
    &missing_memory_limit::MissingMemoryLimit,
    &requests_exceed_limits::RequestsExceedLimits,
    &missing_readiness_probe::MissingReadinessProbe,
    &missing_liveness_probe::MissingLivenessProbe,
    &identical_probes::IdenticalProbes,
    &single_replica_with_budget::SingleReplicaWithBudget,
    &replicas_not_spread::ReplicasNotSpread,
    &hpa_min_above_max::HpaMinAboveMax,
    &hpa_without_requests::HpaWithoutRequests,
    &pdb_selects_nothing::PdbSelectsNothing,
    &pdb_blocks_eviction::PdbBlocksEviction,
    &selector_mismatch::SelectorMismatch,
    &hpa_fights_replicas::HpaFightsReplicas,
    &rollout_takes_all_down::RolloutTakesAllDown,
    &prestop_outlasts_grace::PrestopOutlastsGrace,
    &probe_port_undeclared::ProbePortUndeclared,
    &liveness_without_startup::LivenessWithoutStartup,
    &pods_in_several_budgets::PodsInSeveralBudgets,
];
