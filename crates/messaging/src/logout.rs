//! Back-channel logouts over HTTP (Back-Channel Logout 1.0 §2.5): the logout token posted
//! form-encoded to the application's address, with timeouts and never following a redirect.

use std::time::Duration;

use async_trait::async_trait;
use latch_app::logouts::LogoutSender;

pub struct HttpLogoutSender {
    http: reqwest::Client,
}

impl HttpLogoutSender {
    pub fn new() -> Result<Self, String> {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // SECURITY: the registered address, and only it, receives the token.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        Ok(HttpLogoutSender { http })
    }
}

#[async_trait]
impl LogoutSender for HttpLogoutSender {
    async fn send(&self, uri: &str, logout_token: &str) -> Result<(), String> {
        let response = self
            .http
            .post(uri)
            .form(&[("logout_token", logout_token)])
            .send()
            .await
            // The error names the address and what failed, never the token.
            .map_err(|e| format!("could not reach it: {}", e.without_url()))?;
        // §2.8: 200 says it was taken; some applications answer 204.
        match response.status().as_u16() {
            200 | 204 => Ok(()),
            status => Err(format!("it answered {status}")),
        }
    }
}
