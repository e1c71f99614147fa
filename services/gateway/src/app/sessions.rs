//! Server-side sessions. A visitor gets a session before signing in (it holds the sign-in form's
//! CSRF token); signing in replaces it with a new one (new token, new CSRF token: the session id is
//! rotated). Each request resolves its cookie here: a session past its idle or absolute limit, or
//! whose account is disabled, is deleted on the spot and the request treated as signed out.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use wf_auth::Role;
use wf_db::{Db, DbError};
use wf_types::{AccountId, PartnerId, SessionId, SharedClock};
use zeroize::Zeroizing;

use crate::domain::account::Account;
use crate::domain::session::{self, Liveness};
use crate::store;
use crate::store::sessions::SessionRow;

/// Why a session the request named is no longer usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// 30 minutes without a request.
    Idle,
    /// 12 hours since sign-in.
    Absolute,
    /// The account was disabled (or removed) meanwhile.
    AccountDisabled,
}

impl EndReason {
    /// The `ended` value of the sign-in page's address (no personal data).
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Idle => "idle",
            EndReason::Absolute => "absolute",
            EndReason::AccountDisabled => "ended",
        }
    }
}

/// What a request's session cookie turned out to be.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// No cookie.
    None,
    /// A cookie naming no session (signed out, swept, or forged).
    Unknown,
    /// A session that ended; it is deleted. `signed_in`: it belonged to an account.
    Ended { reason: EndReason, signed_in: bool },
    /// A live session before sign-in.
    Visitor(SessionRow),
    /// A live signed-in session.
    Person(SignedIn),
}

impl Resolved {
    /// The CSRF token of a live session.
    pub fn csrf_token(&self) -> Option<&str> {
        match self {
            Resolved::Visitor(row) => Some(&row.csrf_token),
            Resolved::Person(person) => Some(&person.csrf_token),
            _ => None,
        }
    }

    pub fn session_id(&self) -> Option<&SessionId> {
        match self {
            Resolved::Visitor(row) => Some(&row.id),
            Resolved::Person(person) => Some(&person.session_id),
            _ => None,
        }
    }

    /// Whether the request carried a cookie that no longer names a live session (it is cleared).
    pub fn cookie_is_stale(&self) -> bool {
        matches!(self, Resolved::Unknown | Resolved::Ended { .. })
    }
}

/// The signed-in person behind a request: what pages show and what upstream tokens carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub session_id: SessionId,
    pub account_id: AccountId,
    pub username: String,
    pub role: Role,
    pub partner_id: Option<PartnerId>,
    /// The subject of upstream tokens.
    pub user_id: String,
    pub csrf_token: String,
    pub has_totp: bool,
    /// Whether the current confidentiality acknowledgment is accepted (nothing else is reachable
    /// until it is).
    pub acknowledged: bool,
    /// Seconds until the session ends without activity (the earlier of its two limits).
    pub seconds_left: i64,
}

impl SignedIn {
    fn of(row: &SessionRow, account: &Account, now: i64) -> Self {
        SignedIn {
            session_id: row.id.clone(),
            account_id: account.id.clone(),
            username: account.username.clone(),
            role: account.role,
            partner_id: account.partner_id.clone(),
            user_id: account.user_id.clone(),
            csrf_token: row.csrf_token.clone(),
            has_totp: account.has_totp(),
            acknowledged: account.has_acknowledged(),
            seconds_left: session::seconds_left(row.created_at, now.max(row.last_seen_at), now),
        }
    }

    pub fn is_partner(&self) -> bool {
        self.role == Role::Partner
    }
}

/// A session just started: the token goes into the cookie and nowhere else.
pub struct NewSession {
    pub token: Zeroizing<String>,
    pub row: SessionRow,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession").field("id", &self.row.id).finish_non_exhaustive()
    }
}

fn random_token() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; session::TOKEN_BYTES]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

#[derive(Clone)]
pub struct Sessions {
    db: Db,
    clock: SharedClock,
}

impl Sessions {
    pub fn new(db: Db, clock: SharedClock) -> Self {
        Self { db, clock }
    }

    /// A session for a visitor who has not signed in.
    pub async fn start_visitor(&self) -> Result<NewSession, DbError> {
        self.start(None, None, None).await
    }

    /// A signed-in session for `account`, replacing `replacing` (the visitor's session, or an
    /// earlier one) in the same transaction.
    pub async fn start_for(
        &self,
        account: &AccountId,
        method: &str,
        replacing: Option<&SessionId>,
    ) -> Result<NewSession, DbError> {
        self.start(Some(account.clone()), Some(method.to_owned()), replacing).await
    }

    async fn start(
        &self,
        account_id: Option<AccountId>,
        method: Option<String>,
        replacing: Option<&SessionId>,
    ) -> Result<NewSession, DbError> {
        let token = random_token();
        let now = self.clock.now_micros();
        let row = SessionRow {
            id: SessionId::generate(),
            token_hash: session::token_hash(&token),
            account_id,
            csrf_token: random_token().to_string(),
            sign_in_method: method,
            created_at: now,
            last_seen_at: now,
        };
        let mut tx = self.db.begin().await?;
        if let Some(old) = replacing {
            store::sessions::delete(&mut tx, old).await?;
        }
        store::sessions::insert(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(NewSession { token, row })
    }

    /// What the cookie `token` names now (and records the activity).
    pub async fn resolve(&self, token: &str) -> Result<Resolved, DbError> {
        let now = self.clock.now_micros();
        let mut conn = self.db.pool().acquire().await?;
        let Some(row) = store::sessions::by_token_hash(&mut conn, &session::token_hash(token)).await? else {
            return Ok(Resolved::Unknown);
        };
        let signed_in = row.account_id.is_some();
        let ended = |reason| Resolved::Ended { reason, signed_in };
        match session::liveness(row.created_at, row.last_seen_at, now) {
            Liveness::Live => {}
            Liveness::Idle => {
                store::sessions::delete(&mut conn, &row.id).await?;
                return Ok(ended(EndReason::Idle));
            }
            Liveness::Absolute => {
                store::sessions::delete(&mut conn, &row.id).await?;
                return Ok(ended(EndReason::Absolute));
            }
        }
        let person = match &row.account_id {
            None => None,
            Some(account_id) => match store::accounts::by_id(&mut conn, account_id).await? {
                Some(account) if !account.is_disabled() => Some(account),
                _ => {
                    store::sessions::delete(&mut conn, &row.id).await?;
                    return Ok(ended(EndReason::AccountDisabled));
                }
            },
        };
        if session::should_touch(row.last_seen_at, now) {
            store::sessions::touch(&mut conn, &row.id, now).await?;
        }
        Ok(match person {
            Some(account) => Resolved::Person(SignedIn::of(&row, &account, now)),
            None => Resolved::Visitor(row),
        })
    }

    /// Records activity now, whatever the last was (`/session/extend`).
    pub async fn extend(&self, id: &SessionId) -> Result<(), DbError> {
        let mut conn = self.db.pool().acquire().await?;
        store::sessions::touch(&mut conn, id, self.clock.now_micros()).await
    }

    /// Ends one session (sign-out).
    pub async fn end(&self, id: &SessionId) -> Result<(), DbError> {
        let mut conn = self.db.pool().acquire().await?;
        store::sessions::delete(&mut conn, id).await
    }

    /// Deletes every session past a limit; returns how many.
    pub async fn sweep(&self) -> Result<u64, DbError> {
        let (idle_before, created_before) = session::ended_before(self.clock.now_micros());
        let mut conn = self.db.pool().acquire().await?;
        store::sessions::sweep(&mut conn, idle_before, created_before).await
    }
}
