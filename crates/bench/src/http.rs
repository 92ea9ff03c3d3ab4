//! A small HTTP/1.1 client over loopback, on hyper: light enough that the load it generates
//! leaves most of the two cores to the server it measures.

use std::net::SocketAddr;

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

/// What came back: the status, the body, the cookies set (`name=value`, the session's apart),
/// and where a redirect leads.
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
    pub session: Option<String>,
    pub cookies: Vec<String>,
    pub location: Option<String>,
}

impl Reply {
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("a JSON body")
    }

    /// The cookie `name` this answer set, as a `Cookie` header sends it back.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|c| c.split_once('=').is_some_and(|(n, _)| n == name))
            .map(String::as_str)
    }
}

impl Http {
    pub fn new(addr: SocketAddr) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(256)
            .build(connector);
        Http {
            client,
            base: format!("http://{addr}"),
        }
    }

    /// The server's base URL, `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> anyhow::Result<Reply> {
        self.send(Method::GET, path, None, cookie).await
    }

    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
        cookie: Option<&str>,
    ) -> anyhow::Result<Reply> {
        self.send(Method::POST, path, Some(body.to_string()), cookie)
            .await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        cookie: Option<&str>,
    ) -> anyhow::Result<Reply> {
        let mut headers = Vec::new();
        if body.is_some() {
            headers.push((CONTENT_TYPE.as_str(), "application/json"));
        }
        if let Some(cookie) = cookie {
            headers.push((COOKIE.as_str(), cookie));
        }
        self.request(method, path, body.unwrap_or_default(), &headers)
            .await
    }

    /// Any request, with the headers given (an application's form, its Basic or Bearer
    /// credentials).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: String,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body)))?;
        let response = self.client.request(request).await?;
        let status = response.status().as_u16();
        let cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next().map(str::to_owned))
            .collect();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("latch_session="))
            .cloned();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            body,
            session,
            cookies,
            location,
        })
    }
}
