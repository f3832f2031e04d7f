//! Client and server of the non-JSON request bodies agree: what the generated client sends, the
//! generated server accepts and hands to the implementation typed (text as a `String`, a form as
//! its struct, anything else as raw bytes with its content type); another `Content-Type` is a 415.

use construct_corpus::runtime::{RawBody, RequestContext, ServerError};
use construct_corpus::{Hooks, body_form, body_multipart, body_octet_stream, body_text_plain};
use std::sync::{Arc, Mutex};

/// Records what each method received.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn push(&self, what: String) {
        self.0.lock().unwrap().push(what);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn raw(body: &RawBody) -> String {
    format!(
        "{} {}",
        body.content_type,
        String::from_utf8_lossy(&body.bytes)
    )
}

impl body_text_plain::server::BackpackApi for Recorder {
    async fn set_name(
        &self,
        _: RequestContext,
        input: body_text_plain::server::SetNameInput,
    ) -> Result<body_text_plain::server::SetNameResponse, ServerError> {
        self.push(format!("text {}", input.body));
        Ok(body_text_plain::server::SetNameResponse::NoContent)
    }
}

impl body_form::server::BackpackApi for Recorder {
    async fn device_auth_request(
        &self,
        _: RequestContext,
        input: body_form::server::DeviceAuthRequestInput,
    ) -> Result<body_form::server::DeviceAuthRequestResponse, ServerError> {
        let form = input.body;
        self.push(format!(
            "form {} {:?} {:?}",
            form.client_id, form.scope, form.ttl_seconds
        ));
        Ok(body_form::server::DeviceAuthRequestResponse::Ok(
            body_form::DeviceAuthRequestResponse::new("code-1"),
        ))
    }
}

impl body_multipart::server::BackpackApi for Recorder {
    async fn create_menu_item(
        &self,
        _: RequestContext,
        input: body_multipart::server::CreateMenuItemInput,
    ) -> Result<body_multipart::server::CreateMenuItemResponse, ServerError> {
        self.push(format!("multipart {}", raw(&input.body)));
        Ok(body_multipart::server::CreateMenuItemResponse::Created)
    }
}

impl body_octet_stream::server::BackpackApi for Recorder {
    async fn upload_file(
        &self,
        _: RequestContext,
        input: body_octet_stream::server::UploadFileInput,
    ) -> Result<body_octet_stream::server::UploadFileResponse, ServerError> {
        self.push(format!("octet {}", raw(&input.body)));
        Ok(body_octet_stream::server::UploadFileResponse::NoContent)
    }

    async fn import_xml(
        &self,
        _: RequestContext,
        input: body_octet_stream::server::ImportXmlInput,
    ) -> Result<body_octet_stream::server::ImportXmlResponse, ServerError> {
        let seen = input.body.as_ref().map(raw).unwrap_or_default();
        self.push(format!("xml {seen}"));
        Ok(body_octet_stream::server::ImportXmlResponse::NoContent)
    }
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// Sends `body` as `content_type` to `url` and returns the status.
async fn status_of(url: &str, method: reqwest::Method, content_type: &str, body: &str) -> u16 {
    reqwest::Client::new()
        .request(method, url)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn text_and_form_bodies_arrive_typed() {
    let api = Arc::new(Recorder::default());
    let text_url = serve(body_text_plain::server::router(api.clone())).await;
    let form_url = serve(body_form::server::router(api.clone())).await;

    let text = body_text_plain::client::Client::new(&text_url, Hooks);
    text.set_name().body("Zoë").send().await.unwrap();
    let form = body_form::client::Client::new(&form_url, Hooks);
    let id = uuid::Uuid::nil();
    let answer = form
        .device_auth_request()
        .body(body_form::DeviceAuthRequest::new(id).with_scope("read write"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.device_code, "code-1");
    assert_eq!(
        api.take(),
        [
            "text Zoë".to_string(),
            format!("form {id} Some(\"read write\") None")
        ]
    );

    // Another Content-Type never reaches the implementation.
    let put = reqwest::Method::PUT;
    let post = reqwest::Method::POST;
    let name = format!("{text_url}/v1/whoami/name");
    assert_eq!(
        status_of(&name, put.clone(), "application/json", "\"x\"").await,
        415
    );
    assert_eq!(
        status_of(&name, put, "text/plain; charset=utf-8", "x").await,
        204
    );
    let auth = format!("{form_url}/device/auth");
    assert_eq!(
        status_of(&auth, post.clone(), "application/json", "{}").await,
        415
    );
    assert_eq!(
        status_of(&auth, post, "application/x-www-form-urlencoded", "scope=x").await,
        400
    );
    assert_eq!(api.take(), ["text x"]);
}

#[tokio::test]
async fn raw_bodies_arrive_with_their_content_type() {
    let api = Arc::new(Recorder::default());
    let multi_url = serve(body_multipart::server::router(api.clone())).await;
    let octet_url = serve(body_octet_stream::server::router(api.clone())).await;

    let boundary = body_multipart::client::MULTIPART_BOUNDARY;
    let parts = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nSoup\r\n--{boundary}--\r\n"
    );
    let multi = body_multipart::client::Client::new(&multi_url, Hooks);
    multi
        .create_menu_item()
        .body(parts.clone())
        .send()
        .await
        .unwrap();
    let octet = body_octet_stream::client::Client::new(&octet_url, Hooks);
    octet.upload_file().body(vec![1u8, 2]).send().await.unwrap();
    octet.import_xml().body("<a/>").send().await.unwrap();
    assert_eq!(
        api.take(),
        [
            format!("multipart multipart/form-data; boundary={boundary} {parts}"),
            "octet application/octet-stream \u{1}\u{2}".to_string(),
            "xml application/xml <a/>".to_string(),
        ]
    );
    let post = reqwest::Method::POST;
    let import = format!("{octet_url}/import");
    assert_eq!(
        status_of(&import, post.clone(), "application/octet-stream", "<a/>").await,
        415
    );
    assert_eq!(
        status_of(&format!("{multi_url}/menu"), post, "text/plain", "x").await,
        415
    );
    assert!(api.take().is_empty());
}
