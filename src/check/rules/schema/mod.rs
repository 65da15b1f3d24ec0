//! KP0xx: the input itself — schema, API versions, duplicates, ignores.

use crate::check::Check;

mod deprecated_api;
mod duplicate_object;
mod field_too_new;
mod ignore_without_reason;
mod no_schema;
mod removed_api;
mod schema_violation;

pub const CHECKS: &[&dyn Check] = &[
    &schema_violation::SchemaViolation,
    &removed_api::RemovedApi,
    &duplicate_object::DuplicateObject,
    &ignore_without_reason::IgnoreWithoutReason,
    &no_schema::NoSchema,
    &deprecated_api::DeprecatedApi,
    &field_too_new::FieldTooNew,
];

#[cfg(test)]
mod tests;
