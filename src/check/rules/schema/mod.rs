//! KP0xx: the input itself — schema, API versions, duplicates, ignores.

use crate::check::Check;

mod duplicate_object;
mod ignore_without_reason;

pub const CHECKS: &[&dyn Check] = &[&duplicate_object::DuplicateObject, &ignore_without_reason::IgnoreWithoutReason];
