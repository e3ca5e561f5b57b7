//! Sanbod OAuth: consent sessions, authorization codes, AC/CC tokens, refresh, revoke.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::answer::{Answer, Call, failure, raw_invalid, str_field};
use crate::http::{json_response, redirect};
use crate::spec::ErrorStyle;
use crate::state::State;
use crate::values::random_token;

/// Sanbod access token lifetime in the sandbox (undocumented upstream; one hour).
pub const SANBOD_ACCESS_LIFETIME: Duration = Duration::from_secs(3600);
/// Sanbod refresh token lifetime in the sandbox (undocumented upstream; 30 days).
pub const SANBOD_REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// Authorization codes are single-use and live 10 minutes (RFC 6749 recommends at most 10).
pub const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// A consent (login) session started by `authorize`.
#[derive(Debug, Clone)]
pub struct ConsentSession {
    /// The bank (`provider_code`) the user logs in at.
    pub provider_code: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub decided: bool,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub struct Code {
    pub scope: Vec<String>,
    pub expires_ms: i64,
    pub used: bool,
}

/// An issued token.
#[derive(Debug, Clone)]
pub struct Token {
    pub scope: Vec<String>,
    pub expires_ms: i64,
    pub revoked: bool,
    pub refresh: bool,
}

/// All Sanbod OAuth state. `Debug` counts the codes and tokens: they are keyed by their
/// secret value.
#[derive(Default)]
pub struct SanbodState {
    pub sessions: HashMap<String, ConsentSession>,
    pub codes: HashMap<String, Code>,
    pub tokens: HashMap<String, Token>,
}

impl std::fmt::Debug for SanbodState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SanbodState")
            .field("sessions", &self.sessions.len())
            .field("codes", &self.codes.len())
            .field("tokens", &self.tokens.len())
            .finish()
    }
}

/// A JWT-shaped token (`header.claims.signature`) whose `exp` claim is its expiry: the SDK may
/// read `exp` as Sanbod's real tokens carry it.
fn jwt(kind: &str, exp_ms: i64) -> String {
    let header =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"typ":"JWT","alg":"HS256","type":"{kind}"}}"#));
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"uuid": random_token(32).to_lowercase(), "exp": exp_ms / 1000, "sandbox": true})
            .to_string(),
    );
    let sig = URL_SAFE_NO_PAD.encode(random_token(32));
    format!("{header}.{claims}.{sig}")
}

/// The strings of a `scope` array (nothing for anything else).
fn scopes(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl SanbodState {
    /// Start a consent session; returns its id.
    pub fn start(
        &mut self,
        provider_code: Option<String>,
        redirect_uri: Option<String>,
        scope: Vec<String>,
        state: Option<String>,
    ) -> String {
        let id = random_token(24).to_lowercase();
        self.sessions.insert(
            id.clone(),
            ConsentSession {
                provider_code,
                redirect_uri,
                scope,
                state,
                decided: false,
            },
        );
        id
    }

    /// The user's decision on the consent page: the redirect URL (with `code` or `error`).
    pub fn decide(&mut self, session: &str, allow: bool, now_ms: i64) -> Result<String, String> {
        let s = self
            .sessions
            .get_mut(session)
            .ok_or_else(|| "unknown consent session".to_owned())?;
        if s.decided {
            return Err("this consent was already decided".into());
        }
        s.decided = true;
        let redirect = s
            .redirect_uri
            .clone()
            .ok_or_else(|| "the session has no redirect_uri".to_owned())?;
        let mut url = url::Url::parse(&redirect).map_err(|e| e.to_string())?;
        {
            let mut q = url.query_pairs_mut();
            if allow {
                let code = uuid::Uuid::new_v4().to_string();
                self.codes.insert(
                    code.clone(),
                    Code {
                        scope: s.scope.clone(),
                        expires_ms: now_ms + CODE_LIFETIME.as_millis() as i64,
                        used: false,
                    },
                );
                q.append_pair("code", &code);
            } else {
                q.append_pair("error", "access_denied");
            }
            if let Some(state) = &s.state {
                q.append_pair("state", state);
            }
        }
        Ok(url.to_string())
    }

    fn issue(&mut self, scope: Vec<String>, now_ms: i64, with_refresh: bool) -> Value {
        let exp = now_ms + SANBOD_ACCESS_LIFETIME.as_millis() as i64;
        let access = jwt("access", exp);
        self.tokens.insert(
            access.clone(),
            Token {
                scope: scope.clone(),
                expires_ms: exp,
                revoked: false,
                refresh: false,
            },
        );
        let mut answer = json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": SANBOD_ACCESS_LIFETIME.as_secs(),
        });
        if with_refresh {
            let rexp = now_ms + SANBOD_REFRESH_LIFETIME.as_millis() as i64;
            let refresh = jwt("refresh", rexp);
            self.tokens.insert(
                refresh.clone(),
                Token {
                    scope,
                    expires_ms: rexp,
                    revoked: false,
                    refresh: true,
                },
            );
            answer["refresh_token"] = json!(refresh);
        }
        answer
    }

    /// The token endpoint: `Ok(answer)` or `Err((oauth error code, description))`.
    pub fn grant(&mut self, body: &Value, now_ms: i64) -> Result<Value, (&'static str, String)> {
        match body["grant_type"].as_str() {
            Some("authorization_code") => {
                let code = body["code"].as_str().unwrap_or_default();
                let c = self
                    .codes
                    .get_mut(code)
                    .ok_or(("invalid_grant", "unknown authorization code".to_owned()))?;
                if c.used {
                    return Err(("invalid_grant", "authorization code already used".into()));
                }
                if now_ms >= c.expires_ms {
                    return Err(("invalid_grant", "authorization code expired".into()));
                }
                c.used = true;
                let scope = c.scope.clone();
                Ok(self.issue(scope, now_ms, true))
            }
            Some("client_credentials") => {
                let scope = scopes(&body["scope"]);
                Ok(self.issue(scope, now_ms, false))
            }
            Some("refresh_token") => {
                let rt = body["refresh_token"].as_str().unwrap_or_default();
                let t = self
                    .tokens
                    .get_mut(rt)
                    .filter(|t| t.refresh)
                    .ok_or(("invalid_grant", "unknown refresh token".to_owned()))?;
                if t.revoked || now_ms >= t.expires_ms {
                    return Err(("invalid_grant", "refresh token expired or used".into()));
                }
                t.revoked = true;
                let scope = t.scope.clone();
                Ok(self.issue(scope, now_ms, true))
            }
            _ => Err(("unsupported_grant_type", "unknown grant_type".into())),
        }
    }

    /// Revoke an access token; false if it is unknown.
    pub fn revoke(&mut self, token: &str) -> bool {
        match self.tokens.get_mut(token) {
            Some(t) => {
                t.revoked = true;
                true
            }
            None => false,
        }
    }

    /// Check a bearer token for a service scope: `Err((http status, message))` when refused.
    pub fn check(&self, token: &str, scope: &str, now_ms: i64) -> Result<(), (u16, &'static str)> {
        let t = self
            .tokens
            .get(token)
            .filter(|t| !t.refresh)
            .ok_or((401, "invalid access token"))?;
        if t.revoked {
            return Err((401, "access token revoked"));
        }
        if now_ms >= t.expires_ms {
            return Err((401, "access token expired"));
        }
        if !t.scope.iter().any(|s| s.eq_ignore_ascii_case(scope)) {
            return Err((403, "scope not granted for this service"));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- handlers

/// `authorize`: a consent session, and the 302 to its page.
pub(crate) fn sanbod_authorize(
    st: &mut State,
    sanbod: &mut SanbodState,
    call: &Call<'_>,
) -> Answer {
    let b = &call.body;
    if b["client_id"].as_str() != Some(st.creds.sanbod_client_id.as_str()) {
        return Answer::raw(failure(
            ErrorStyle::Sanbod,
            400,
            "invalid client_id",
            call.traceid(),
        ));
    }
    let Some(redirect_uri) = str_field(b, "redirect_uri") else {
        return raw_invalid(
            ErrorStyle::Sanbod,
            "redirect_uri",
            "redirect_uri is required by the sandbox",
        );
    };
    if url::Url::parse(&redirect_uri).is_err() {
        return raw_invalid(
            ErrorStyle::Sanbod,
            "redirect_uri",
            "redirect_uri is invalid",
        );
    }
    let scope = scopes(&b["scope"]);
    let id = sanbod.start(
        str_field(b, "provider_code"),
        Some(redirect_uri),
        scope,
        str_field(b, "state"),
    );
    Answer::raw(redirect(&format!(
        "{}/__sandbox/sanbod/consent/{id}",
        call.base_url
    )))
}

/// `token`: the three grants.
pub(crate) fn sanbod_token(st: &mut State, sanbod: &mut SanbodState, call: &Call<'_>) -> Answer {
    let now = st.now();
    match sanbod.grant(&call.body, now) {
        Ok(v) => Answer::Json(200, v),
        Err((code, description)) => Answer::raw(json_response(
            400,
            &json!({"error": code, "error_description": description}),
        )),
    }
}

/// `revoke`: end an access token.
pub(crate) fn sanbod_revoke(sanbod: &mut SanbodState, call: &Call<'_>) -> Answer {
    let token = call.body["access_token"].as_str().unwrap_or_default();
    if sanbod.revoke(token) {
        Answer::Json(
            200,
            json!({"error": false, "message": "revoked", "result_number": 1, "traceid": call.traceid()}),
        )
    } else {
        Answer::raw(failure(
            ErrorStyle::Sanbod,
            400,
            "unknown access token",
            call.traceid(),
        ))
    }
}
