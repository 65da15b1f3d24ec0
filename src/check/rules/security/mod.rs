//! KP1xx: pod and container security, and RBAC. Severities follow one rule:
//! errors for what hands a compromised pod (or anyone) power over the node or
//! the cluster — most of them forbidden by the Pod Security `baseline` level;
//! warnings for missing hardening (the `restricted` level and hygiene);
//! info for what other cluster-side mechanisms may already cover.

use crate::check::Check;

mod common;

mod apparmor_unconfined;
mod capabilities_not_dropped;
mod capability_beyond_baseline;
mod cluster_admin_binding;
mod dangerous_capability;
mod default_service_account;
mod host_ipc;
mod host_network;
mod host_path_volume;
mod host_pid;
mod host_port;
mod image_without_digest;
mod mutable_image_tag;
mod namespace_without_pod_security;
mod privilege_escalation_allowed;
mod privileged_container;
mod proc_mount_unmasked;
mod rbac_escalation;
mod rbac_grants_everyone;
mod rbac_wildcard;
mod runs_as_root;
mod runtime_socket_mount;
mod seccomp_profile_missing;
mod seccomp_unconfined;
pub mod secret_in_env_value;
mod secrets_readable_cluster_wide;
mod service_account_token_mounted;
mod unsafe_sysctl;
mod writable_root_filesystem;

pub const CHECKS: &[&dyn Check] = &[
    &privileged_container::PrivilegedContainer,
    &privilege_escalation_allowed::PrivilegeEscalationAllowed,
    &runs_as_root::RunsAsRoot,
    &dangerous_capability::DangerousCapability,
    &host_network::HostNetwork,
    &host_pid::HostPid,
    &host_ipc::HostIpc,
    &host_port::HostPort,
    &host_path_volume::HostPathVolume,
    &runtime_socket_mount::RuntimeSocketMount,
    &capabilities_not_dropped::CapabilitiesNotDropped,
    &writable_root_filesystem::WritableRootFilesystem,
    &seccomp_profile_missing::SeccompProfileMissing,
    &seccomp_unconfined::SeccompUnconfined,
    &apparmor_unconfined::ApparmorUnconfined,
    &unsafe_sysctl::UnsafeSysctl,
    &proc_mount_unmasked::ProcMountUnmasked,
    &service_account_token_mounted::ServiceAccountTokenMounted,
    &default_service_account::DefaultServiceAccount,
    &mutable_image_tag::MutableImageTag,
    &secret_in_env_value::SecretInEnvValue,
    &rbac_wildcard::RbacWildcard,
    &cluster_admin_binding::ClusterAdminBinding,
    &secrets_readable_cluster_wide::SecretsReadableClusterWide,
    &rbac_grants_everyone::RbacGrantsEveryone,
    &namespace_without_pod_security::NamespaceWithoutPodSecurity,
    &capability_beyond_baseline::CapabilityBeyondBaseline,
    &image_without_digest::ImageWithoutDigest,
    &rbac_escalation::RbacEscalation,
];
