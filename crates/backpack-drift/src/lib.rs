//! Drift watch for Xsolla's Backpack API and webhooks: tells you how real traffic differs from
//! the `spec/` documents this workspace is generated from, before any published spec does.
//!
//! The generated types hide differences on purpose (unknown fields are dropped, unknown enum
//! values become `Unknown`, a new `notification_type` goes to the unknown handler). A
//! [`DriftWatch`] sees the same bodies and reports, per operation and status or per webhook
//! type:
//!
//! - properties the spec does not have (as JSON paths), and required ones that are missing;
//! - JSON type mismatches (an integer where the spec says string);
//! - enum values the spec does not list;
//! - undocumented status codes and content types; unknown `notification_type`s.
//!
//! The schemas are generated from `spec/` by `cargo xtask regen` into [`spec`]; nothing is
//! fetched at run time. Each distinct [`Finding`] is logged once as a `tracing` warning on the
//! `backpack_drift` target (again at most once per [`DEFAULT_WARN_INTERVAL`]), counted in the
//! `metrics` counter [`METRIC`], and kept in the watch's [`DriftReport`], which
//! `cargo xtask drift FILE…` turns into a proposed overlay for `spec/overlays/`.
//!
//! **Privacy.** Bodies carry payment and user data. A finding holds a JSON path, JSON types, the
//! operation or webhook type, a count and first/last seen times; never a value, except the value
//! of a field the spec declares as an enum. A member name that is not identifier-like (it could
//! be data used as a key) is written `*`.
//!
//! The SDK (`backpack-sdk`, feature `drift`), the webhook receivers (`backpack-webhooks`, feature
//! `drift`) and `backpack webhook listen --drift-report FILE` feed a watch. The receivers check a
//! body in the walk they already make to read its `notification_type` and deduplication fields
//! ([`DriftWatch::check_webhook_keeping`]), so the watch adds no second pass over the JSON.
//!
//! ```
//! use backpack_drift::{DriftWatch, Family};
//!
//! let watch = DriftWatch::new()?;
//! watch.check_webhook(Family::Store, "brand_new_type", br#"{"notification_type":"brand_new_type"}"#);
//! let report = watch.report();
//! assert_eq!(report.findings[0].finding.kind.as_str(), "unknown_notification_type");
//! println!("{}", report.to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod check;
pub mod finding;
pub mod fold;
pub mod report;
mod scan;
pub mod schema;
/// The schemas generated from `spec/` by `cargo xtask regen` (`backpack_types::drift_schemas`).
pub use backpack_types::drift_schemas as spec;
pub mod watch;

pub use finding::{Family, Finding, JsonType, Kind, Subject};
pub use fold::Keep;
pub use report::{DriftReport, Observed, ReportError};
pub use schema::{SchemaError, Schemas};
pub use watch::{DEFAULT_WARN_INTERVAL, DriftWatch, MAX_FINDINGS, METRIC, TARGET};
