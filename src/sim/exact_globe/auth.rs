//! Authentication: NTLM (NTLMv2, per connection, the real service's scheme) and Basic (test
//! mode). The user must be the configured one (any `DOMAIN\` prefix); anything else is 401
//! with the challenges a Windows host sends.

use super::conn::ConnHandle;
use super::ntlm;
use super::server::{error_response, Shared};
use super::store::ApiError;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::Rng;

/// The NetBIOS domain the simulator's CHALLENGE names.
const DOMAIN: &str = "EXACT";

/// 401 with `Negotiate`, `NTLM` and `Basic` challenges.
pub fn unauthorized() -> Response {
    let mut r = error_response(&ApiError {
        status: 401,
        message: "Access is denied due to invalid credentials.".into(),
    });
    let h = r.headers_mut();
    h.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Negotiate"),
    );
    h.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("NTLM"));
    h.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Exact Globe Entity Services\""),
    );
    r
}

fn user_matches(sh: &Shared, user: &str) -> bool {
    let user = user.rsplit('\\').next().unwrap_or(user);
    user.eq_ignore_ascii_case(&sh.user)
}

/// Why a request may not go on.
enum Refusal {
    /// 401 with the standard challenges.
    Denied,
    /// 401 carrying an NTLM CHALLENGE message (`WWW-Authenticate` value).
    Challenge(HeaderValue),
}

/// None to go on, or the answer to send instead (401, or the NTLM CHALLENGE).
pub fn authenticate(sh: &Shared, conn: &ConnHandle, headers: &HeaderMap) -> Option<Response> {
    match check(sh, conn, headers) {
        Ok(()) => None,
        Err(Refusal::Denied) => Some(unauthorized()),
        Err(Refusal::Challenge(v)) => {
            let mut r = (StatusCode::UNAUTHORIZED, "").into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            Some(r)
        }
    }
}

fn check(sh: &Shared, conn: &ConnHandle, headers: &HeaderMap) -> Result<(), Refusal> {
    use Refusal::Denied;
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let Some(value) = value else {
        return if conn.ntlm.lock().authenticated {
            Ok(())
        } else {
            Err(Denied)
        };
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let raw = B64.decode(token.trim()).map_err(|_| Denied)?;
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => {
            let text = String::from_utf8(raw).map_err(|_| Denied)?;
            let (user, password) = text.split_once(':').ok_or(Denied)?;
            if user_matches(sh, user) && password == sh.password {
                Ok(())
            } else {
                Err(Denied)
            }
        }
        "ntlm" | "negotiate" => match ntlm::message_type(&raw) {
            Some(1) => {
                let challenge: [u8; 8] = sh.rng.lock().gen();
                let mut state = conn.ntlm.lock();
                state.challenge = Some(challenge);
                state.authenticated = false;
                let msg = B64.encode(ntlm::challenge_message(challenge, DOMAIN));
                let v = HeaderValue::from_str(&format!("{scheme} {msg}")).map_err(|_| Denied)?;
                Err(Refusal::Challenge(v))
            }
            Some(3) => {
                let mut state = conn.ntlm.lock();
                let challenge = state.challenge.take().ok_or(Denied)?;
                let auth = ntlm::parse_authenticate(&raw).ok_or(Denied)?;
                if user_matches(sh, &auth.user) && ntlm::verify_v2(&auth, &sh.password, challenge) {
                    state.authenticated = true;
                    Ok(())
                } else {
                    Err(Denied)
                }
            }
            _ => Err(Denied),
        },
        _ => Err(Denied),
    }
}
