//! Routing's timer loops, each a named `run(…, shutdown)` spawned and joined by the component:
//! offer expiry (with the directory and policy refresh) and the referral time limits.

pub mod offer_expiry;
pub mod time_limits;
