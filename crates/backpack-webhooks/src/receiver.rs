//! The receivers: axum routers / tower services running the delivery pipeline for a
//! payments/store handler ([`WebhookReceiver`]), a Backpack handler ([`BackpackReceiver`]) or a
//! transactional handler (`TransactionalReceiver`). Their settings are a [`ReceiverConfig`].

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use http::header::{ALLOW, HeaderValue};
use http::{Request, StatusCode};

use crate::config::ReceiverConfig;
use crate::dedup::{DedupStore, StoredAnswer};
use crate::dispatch::{BackpackDispatch, StoreDispatch};
use crate::handler::{BackpackHandler, WebhookHandler};
use crate::pipeline::DeliveryPipeline;
use crate::secret::{SecretError, WebhookSecrets};
#[cfg(feature = "_sql")]
use crate::transactional::{SqlStore, TransactionalHandler, TxDispatch};

/// The HTTP response for an answer (plus `Allow: POST` on 405).
fn respond(answer: StoredAnswer) -> Response {
    let mut response = answer.into_response();
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

macro_rules! receiver_type {
    (
        $(#[$meta:meta])*
        $name:ident, $dispatch:ident;
        $( $(#[$cfg:meta])* impl[$($gen:tt)*] $S:ty; )+
    ) => {
        $(#[$meta])*
        pub struct $name<H, S> {
            pipeline: Arc<DeliveryPipeline<$dispatch<H>, S>>,
        }

        impl<H, S> Clone for $name<H, S> {
            fn clone(&self) -> Self {
                Self {
                    pipeline: Arc::clone(&self.pipeline),
                }
            }
        }

        impl<H, S> fmt::Debug for $name<H, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("config", &self.pipeline.config)
                    .field("secrets", &self.pipeline.secrets)
                    .finish_non_exhaustive()
            }
        }

        $( receiver_type!(@impl $(#[$cfg])* [$($gen)*] $name, $dispatch, $S); )+
    };
    (@impl $(#[$cfg:meta])* [$($gen:tt)*] $name:ident, $dispatch:ident, $S:ty) => {
        $(#[$cfg])*
        impl<$($gen)*> $name<H, $S> {
            /// A receiver with the default [`ReceiverConfig`]. `secrets` is one
            /// [`WebhookSecret`](crate::WebhookSecret), or [`WebhookSecrets`] (current and previous keys, while you
            /// rotate the project's secret key). An empty secret is refused
            /// ([`SecretError::Empty`]): anyone could sign with it.
            pub fn new(
                secrets: impl Into<WebhookSecrets>,
                handler: H,
                store: $S,
            ) -> Result<Self, SecretError> {
                Self::with_config(secrets, handler, store, ReceiverConfig::default())
            }

            /// A receiver with explicit settings. An empty secret is refused.
            pub fn with_config(
                secrets: impl Into<WebhookSecrets>,
                handler: H,
                store: $S,
                config: ReceiverConfig,
            ) -> Result<Self, SecretError> {
                let secrets = secrets.into();
                secrets.check()?;
                Ok(Self {
                    pipeline: Arc::new(DeliveryPipeline::new(
                        $dispatch::new(handler),
                        store,
                        secrets,
                        config,
                    )),
                })
            }

            /// Handles one request (any framework): the full pipeline.
            pub async fn handle(&self, request: Request<Body>) -> Response {
                respond(self.pipeline.process(request).await)
            }

            /// An axum router answering at `/` (mount it with `Router::nest`, or use the receiver
            /// itself as a service with `Router::route_service`). Non-POST requests get 405.
            pub fn into_router(self) -> Router {
                Router::new().route_service("/", self)
            }

            /// The handler.
            pub fn handler(&self) -> &H {
                self.pipeline.runner.handler()
            }

            /// The dedup store.
            pub fn store(&self) -> &$S {
                &self.pipeline.store
            }

            /// The settings.
            pub fn config(&self) -> &ReceiverConfig {
                &self.pipeline.config
            }
        }

        $(#[$cfg])*
        impl<$($gen)*> tower::Service<Request<Body>> for $name<H, $S> {
            type Response = Response;
            type Error = Infallible;
            type Future = BoxFuture;

            fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: Request<Body>) -> BoxFuture {
                let pipeline = Arc::clone(&self.pipeline);
                Box::pin(async move { Ok(respond(pipeline.process(request).await)) })
            }
        }
    };
}

receiver_type! {
    /// Receiver for payments/store webhooks: 204 on success, 400 `{"error":{…}}` for rejections,
    /// 500 for temporary failures (see the crate docs for the full table).
    ///
    /// ```no_run
    /// use backpack_webhooks::{MemoryStore, WebhookHandler, WebhookReceiver, WebhookSecret};
    /// struct Shop;
    /// impl WebhookHandler for Shop {}
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let receiver = WebhookReceiver::new(
    ///     WebhookSecret::from_env("XSOLLA_WEBHOOK_SECRET")?,
    ///     Shop,
    ///     MemoryStore::new(),
    /// )?;
    /// let app = axum::Router::new().route_service("/xsolla/webhook", receiver);
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// axum::serve(
    ///     listener,
    ///     app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    /// )
    /// .await?;
    /// # Ok(()) }
    /// ```
    WebhookReceiver, StoreDispatch;
    impl[H: WebhookHandler, S: DedupStore] S;
}

receiver_type! {
    /// Receiver for Backpack webhooks: 200 (empty) on success, 404 `{"error":{…}}` for rejections
    /// (player not found, invalid signature, unusable body), 500 for temporary failures.
    BackpackReceiver, BackpackDispatch;
    impl[H: BackpackHandler, S: DedupStore] S;
}

#[cfg(feature = "_sql")]
receiver_type! {
    /// Receiver for payments/store webhooks whose handler writes in the same database
    /// transaction that claims the delivery and records the answer: exactly once, even across
    /// `kill -9`, with one commit per delivery (see [`crate::transactional`]). Built on a
    /// [`SqlStore`] (`SqliteStore`, `PostgresStore` or `MySqlStore`) with a
    /// [`TransactionalHandler`] for its database. Answers as [`WebhookReceiver`].
    TransactionalReceiver, TxDispatch;
    impl[H: TransactionalHandler<S::Db>, S: SqlStore] S;
}
