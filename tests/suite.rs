//! Every integration test, in one test binary: one link instead of one per
//! file (CI links with two cores), and one pool of test threads, so a long
//! test (promtool, a 100 MB input, a real server starting) runs beside the
//! short ones instead of after them. Each file is a module; run one with
//! `cargo test --test suite MODULE::` (e.g. `cargo test --test suite rules_doc::`).

mod common;
mod helm_hooks;
mod hostile;

mod alert_behaviour;
mod alert_series;
mod backup_restore;
mod budget;
mod capacity;
mod check_config;
mod check_gen_output;
mod check_input;
mod checks;
mod cli;
mod component_metrics;
mod connections;
mod corpus;
mod dashboards;
mod datastore_metrics;
mod datastore_options;
mod datastores_run;
mod delivery;
mod description_errors;
mod diff;
mod exposure;
mod extensions;
mod gen_checks;
mod graph;
mod helm;
mod jobs;
mod kustomize_build;
mod layering;
mod mesh;
mod monitoring_stack;
mod neo4j_backup;
mod network_policies;
mod observability;
mod operators;
mod overlays;
mod patches;
mod policy_table;
mod prerequisites;
mod reach;
mod regenerate;
mod reliability;
mod reports;
mod rules_doc;
mod schema;
mod scripts;
mod secret_values;
mod security;
mod snapshots;
mod tracing_env;
mod upgrade;
mod wiring_run;
mod workers;
