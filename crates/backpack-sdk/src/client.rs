//! [`BackpackClient`]: the generated progenitor client, wired to a [`Transport`] through the hooks
//! in `backpack-client`, plus the two offset/limit list calls as streams.
//!
//! Merchant calls (Game and Items operations) go through [`BackpackClient::merchant`]: they carry
//! `X-HOST-ID` (set once here, never a per-call argument) and a server token from the configured
//! [`TokenSource`]. The user-facing calls (`/web/backpack/items…`, `/web/backpack/virtual_*…`) take
//! an end user's token instead: [`BackpackClient::user`] returns a client for one fixed user token,
//! [`BackpackClient::user_with_source`] one whose user token is renewed (e.g. a
//! [`RefreshTokenGrant`](crate::RefreshTokenGrant)). Xsolla's overview says Backpack calls carry
//! both `X-HOST-ID` and `Authorization`, so user clients send the configured `X-HOST-ID` too,
//! unless [`BackpackClientBuilder::host_id_on_user_calls`] turns that off.

use crate::error::Error;
use crate::pagination::paginate;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::token::{TokenCache, TokenSource};
use crate::transport::{Transport, TransportBuilder};
use backpack_client::{BoxFuture, Client, Hooks, Middleware};
use backpack_types::api::{BackpackItem, ItemType};
use futures::Stream;
use std::time::Duration;

/// Xsolla's production server for the Backpack API.
pub const DEFAULT_BASE_URL: &str = "https://metaframe.xsolla.com";

/// Connects the generated client's hooks to a [`Transport`].
struct TransportMiddleware(Transport);

impl Middleware for TransportMiddleware {
    fn prepare<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
        _operation_id: &'static str,
    ) -> BoxFuture<'a, Result<(), String>> {
        // The message is all progenitor can carry (`Error::Custom`); it never holds a secret.
        Box::pin(async move { self.0.prepare(request).await.map_err(|e| e.to_string()) })
    }

    fn send<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>> {
        Box::pin(self.0.send_for_generated_client(client, request))
    }

    fn inspect(&self, body: backpack_client::ResponseBody<'_>) {
        self.0.inspect(body);
    }
}

/// The Backpack API client: build once, share (it is cheap to clone).
#[derive(Clone, Debug)]
pub struct BackpackClient {
    base_url: String,
    http: reqwest::Client,
    merchant: Client,
    transport: Transport,
    /// The `X-HOST-ID` for user clients: `None` when not configured or switched off.
    user_host_id: Option<Secret>,
}

/// Configures a [`BackpackClient`].
#[derive(Debug)]
pub struct BackpackClientBuilder {
    base_url: String,
    transport: TransportBuilder,
    host_id: Option<Secret>,
    host_id_on_user_calls: bool,
}

impl Default for BackpackClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            transport: Transport::builder(),
            host_id: None,
            host_id_on_user_calls: true,
        }
    }
}

impl BackpackClientBuilder {
    /// Server base URL (default [`DEFAULT_BASE_URL`]); e.g. the local emulator's address.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// The `X-HOST-ID` issued by Xsolla, sent on every merchant call and, unless
    /// [`host_id_on_user_calls(false)`](Self::host_id_on_user_calls), on every user call.
    pub fn host_id(mut self, host_id: impl Into<Secret>) -> Self {
        let host_id = host_id.into();
        self.transport = self.transport.host_id(host_id.clone());
        self.host_id = Some(host_id);
        self
    }

    /// Whether clients from [`BackpackClient::user`] and [`BackpackClient::user_with_source`]
    /// send the configured `X-HOST-ID` (default `true`). Xsolla's user-facing operation pages list
    /// no `X-HOST-ID`, while its overview asks for it on calls; turn it off if your user calls are
    /// made where the host id must not travel. Merchant calls always send it.
    pub fn host_id_on_user_calls(mut self, send: bool) -> Self {
        self.host_id_on_user_calls = send;
        self
    }

    /// Where merchant tokens come from (e.g. [`crate::ClientCredentials`]); cached and refreshed.
    pub fn token_source(mut self, source: impl TokenSource + 'static) -> Self {
        self.transport = self.transport.token_source(source);
        self
    }

    /// A ready token cache (to share one cache between clients, or tune refresh).
    pub fn token_cache(mut self, cache: TokenCache) -> Self {
        self.transport = self.transport.token_cache(cache);
        self
    }

    /// Retries for idempotent calls (GET, PUT, DELETE); POSTs are never retried automatically.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.transport = self.transport.retry_policy(retry);
        self
    }

    /// Whole-request timeout (`None` for none).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.transport = self.transport.timeout(timeout);
        self
    }

    /// Connection timeout (`None` for none).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.transport = self.transport.connect_timeout(timeout);
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.transport = self.transport.user_agent(user_agent);
        self
    }

    /// Compares every response, of merchant and user calls, with the spec's schema for its
    /// operation and status (feature `drift`). The watch keeps findings, never values; read them
    /// with [`DriftWatch::report`](backpack_drift::DriftWatch::report), and switch it at run time
    /// with [`DriftWatch::set_enabled`](backpack_drift::DriftWatch::set_enabled).
    #[cfg(feature = "drift")]
    pub fn drift_watch(mut self, watch: backpack_drift::DriftWatch) -> Self {
        self.transport = self.transport.drift_watch(watch);
        self
    }

    /// Builds the client. Fails on invalid configuration (e.g. a host id that is not a valid
    /// header value, or no token source).
    pub fn build(self) -> Result<BackpackClient, Error> {
        if reqwest::Url::parse(&self.base_url).is_err() {
            return Err(Error::InvalidConfig(format!(
                "base URL {:?} is not a URL",
                self.base_url
            )));
        }
        let http = self.transport.build_reqwest_client()?;
        let transport = self.transport.build()?;
        let merchant = Client::new_with_client(
            &self.base_url,
            http.clone(),
            Hooks::new(TransportMiddleware(transport.clone())),
        );
        Ok(BackpackClient {
            base_url: self.base_url,
            http,
            merchant,
            transport,
            user_host_id: self.host_id.filter(|_| self.host_id_on_user_calls),
        })
    }
}

impl BackpackClient {
    /// Starts configuring a client.
    pub fn builder() -> BackpackClientBuilder {
        BackpackClientBuilder::default()
    }

    /// The generated client for merchant (Game and Items) operations: `X-HOST-ID` and the server
    /// token are added to every call.
    pub fn merchant(&self) -> &Client {
        &self.merchant
    }

    /// A generated client for the user-facing operations, authenticated with the fixed
    /// `user_token` (no refresh: a 401 means the user must sign in again; for a renewable token
    /// use [`user_with_source`](Self::user_with_source)). Sends the configured `X-HOST-ID` unless
    /// [`host_id_on_user_calls(false)`](BackpackClientBuilder::host_id_on_user_calls). Shares the
    /// connection pool, timeouts and retry policy.
    pub fn user(&self, user_token: impl Into<Secret>) -> Result<Client, Error> {
        self.user_client(Transport::builder().user_token(user_token))
    }

    /// A generated client for the user-facing operations whose user token comes from `source`
    /// (e.g. a [`RefreshTokenGrant`](crate::RefreshTokenGrant) for Xsolla's one-hour user
    /// tokens): cached and renewed before expiry, and after a 401 renewed once and the call sent
    /// once more, as for merchant tokens. Keep the returned client (it is cheap to clone) to keep
    /// its cache. `X-HOST-ID` as for [`user`](Self::user).
    pub fn user_with_source(&self, source: impl TokenSource + 'static) -> Result<Client, Error> {
        self.user_with_cache(TokenCache::new(source))
    }

    /// [`user_with_source`](Self::user_with_source) with a configured (and possibly shared)
    /// token cache, e.g. one with its own refresh skew or clock.
    pub fn user_with_cache(&self, cache: TokenCache) -> Result<Client, Error> {
        self.user_client(Transport::builder().token_cache(cache))
    }

    /// A user client from a transport builder that already holds the user's authentication.
    fn user_client(&self, auth: TransportBuilder) -> Result<Client, Error> {
        let mut builder = auth.retry_policy(self.transport.retry_policy().clone());
        #[cfg(feature = "drift")]
        if let Some(watch) = self.transport.drift_watch() {
            builder = builder.drift_watch(watch.clone());
        }
        if let Some(host_id) = &self.user_host_id {
            builder = builder.host_id(host_id.clone());
        }
        Ok(Client::new_with_client(
            &self.base_url,
            self.http.clone(),
            Hooks::new(TransportMiddleware(builder.build()?)),
        ))
    }

    /// The merchant transport (to fetch a token up front: `client.transport().prepare(..)`, or to
    /// inspect the token cache).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Fetches (or reuses) the merchant token now, so a misconfiguration shows up as a typed
    /// [`Error::Token`] at start-up rather than on the first call.
    pub async fn authenticate(&self) -> Result<(), Error> {
        match self.transport.token_cache() {
            Some(cache) => cache.token().await.map(|_| ()),
            None => Ok(()),
        }
    }

    /// Every item in a user's Backpack (`user-backpack-items-list`), fetched `page_size` at a time.
    pub fn user_items(
        &self,
        merchant_id: u32,
        project_id: u32,
        user_id: uuid::Uuid,
        page_size: u32,
    ) -> impl Stream<Item = Result<BackpackItem, Error>> + '_ {
        paginate(page_size, move |offset, limit| async move {
            let page = self
                .merchant
                .user_backpack_items_list()
                .merchant_id(merchant_id)
                .project_id(project_id)
                .user_id(user_id)
                .offset(offset)
                .limit(limit)
                .send()
                .await?;
            Ok::<_, Error>(page.into_inner())
        })
    }
}

/// Every item in the signed-in user's Backpack (`get-user-backpack-items`), `page_size` at a time,
/// optionally only of the given types. `client` is one from [`BackpackClient::user`] or
/// [`BackpackClient::user_with_source`].
pub fn my_items(
    client: &Client,
    page_size: u32,
    item_types: Vec<ItemType>,
) -> impl Stream<Item = Result<BackpackItem, Error>> + '_ {
    paginate(page_size, move |offset, limit| {
        let item_types = item_types.clone();
        async move {
            let mut call = client.get_user_backpack_items().offset(offset).limit(limit);
            if !item_types.is_empty() {
                call = call.item_type(item_types);
            }
            let page = call.send().await?;
            Ok::<_, Error>(page.into_inner())
        }
    })
}
