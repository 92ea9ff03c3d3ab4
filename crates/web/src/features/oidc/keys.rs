//! The JWKS (RFC 7517): the public halves of the keys latch signs with, the signing one first,
//! a retired one while what it signed still lives.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::AppState;
use crate::http::error::ApiError;

#[derive(Serialize)]
pub struct KeySet {
    keys: Vec<PublicKey>,
}

#[derive(Serialize)]
pub struct PublicKey {
    kty: &'static str,
    #[serde(rename = "use")]
    used_for: &'static str,
    alg: &'static str,
    kid: String,
    n: String,
    e: String,
}

pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = state.latch.applications.published_keys().await?;
    let set = KeySet {
        keys: keys
            .into_iter()
            .map(|k| PublicKey {
                kty: "RSA",
                used_for: "sig",
                alg: "RS256",
                kid: k.id,
                n: k.public_n,
                e: k.public_e,
            })
            .collect(),
    };
    // A relying party that meets a key id it does not know fetches again; five minutes keeps
    // a rotation quick to reach them.
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response())
}
