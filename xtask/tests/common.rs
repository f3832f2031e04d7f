//! Helpers shared by the xtask integration tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

/// Copies `spec/` and `generated/` of the workspace into `dest`, as a scratch tree for regen/pull.
pub fn scratch_tree(dest: &Path) {
    let root = xtask::workspace_root();
    for dir in ["spec", "generated"] {
        copy_dir(&root.join(dir), &dest.join(dir));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// How the one-shot test server answers.
pub enum Answer {
    /// Status line and body (served as `application/yaml`).
    Respond(&'static str, String),
    /// Status line, content type and body.
    RespondAs(&'static str, &'static str, String),
    /// Reads the request and never answers (until the test process ends).
    Hang,
}

/// Serves one connection on loopback in a background thread; returns the base URL.
pub fn serve_once(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        match answer {
            Answer::Respond(status, body) => {
                respond(&mut stream, status, "application/yaml", &body)
            }
            Answer::RespondAs(status, content_type, body) => {
                respond(&mut stream, status, content_type, &body)
            }
            Answer::Hang => {
                // Keep the connection open without answering; the client's timeout must fire.
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest);
            }
        }
    });
    format!("http://{addr}")
}

fn respond(stream: &mut std::net::TcpStream, status: &str, content_type: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}
