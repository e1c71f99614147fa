//! Who is calling, and may they do this?
//!
//! - [`TokenIssuer`] / [`TokenVerifier`]: Ed25519-signed JWTs of three kinds (user, partner, service)
//!   separated by the `typ` header, verified against an allowlist of keys by `kid`.
//! - [`Role`], [`Operation`] and [`is_allowed`]: the one authorization table every service consults.
//! - [`AuthGate`] (server) and [`BearerToken`] (client): the gate in front of every gRPC method and the tonic
//!   client interceptor, carrying the token in `authorization: Bearer …` metadata; [`principal`] reads the
//!   verified caller back out of a request.
//! - [`load_or_create_dev_keypair`]: a signing key pair on disk for the embedded (single-process) mode.
//!
//! Record-level scoping (a partner sees only referrals it submitted or was offered) is the services' job;
//! this crate only answers whether a role may perform an operation at all.

mod authz;
mod dev_keys;
mod error;
mod grpc;
mod role;
pub mod rpc;
mod token;

pub use authz::{Operation, is_allowed};
pub use dev_keys::{DEV_PRIVATE_KEY_FILE, DEV_PUBLIC_KEY_FILE, DevKeys, key_id_for, load_or_create_dev_keypair};
pub use error::AuthError;
pub use grpc::{AuthGate, BearerToken, Refusal, RefusalReason, RefusalSink, Refused, UNKNOWN_METHOD, principal};
pub use role::{Role, UnknownRole};
pub use token::{Claims, LEEWAY_SECS, MAX_TOKEN_LEN, Principal, TokenIssuer, TokenKind, TokenVerifier};
