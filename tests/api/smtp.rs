//! A real SMTP listener for the tests: it speaks enough SMTP for lettre, keeps every message it
//! accepts, and can be told to answer RCPT with an error code (451: try later; 550: never).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct MailSink {
    port: u16,
    messages: Arc<Mutex<Vec<String>>>,
    /// Codes to answer the next RCPT commands with, in order; then 250.
    rcpt_codes: Arc<Mutex<VecDeque<u16>>>,
    /// How many RCPT commands came.
    pub attempts: Arc<Mutex<usize>>,
    /// How long to think before answering RCPT (a slow server; a sender killed meanwhile
    /// delivers nothing).
    rcpt_delay: Arc<Mutex<Duration>>,
}

impl MailSink {
    pub fn start() -> MailSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sink = MailSink {
            port: listener.local_addr().unwrap().port(),
            ..MailSink::default()
        };
        let server = sink.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let server = server.clone();
                std::thread::spawn(move || {
                    let _ = server.serve(stream);
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Takes `delay` before answering each RCPT from now on.
    pub fn slow_down(&self, delay: Duration) {
        *self.rcpt_delay.lock().unwrap() = delay;
    }

    /// Answers the next RCPT commands with these codes.
    pub fn answer_rcpt_with(&self, codes: &[u16]) {
        self.rcpt_codes.lock().unwrap().extend(codes);
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    pub fn attempts(&self) -> usize {
        *self.attempts.lock().unwrap()
    }

    /// Waits until `count` messages have arrived, at most `within`.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} mails arrived within {within:?}",
                messages.len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn serve(&self, stream: TcpStream) -> std::io::Result<()> {
        let mut out = stream.try_clone()?;
        let mut lines = BufReader::new(stream);
        out.write_all(b"220 sink ESMTP\r\n")?;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            if command.starts_with("EHLO") {
                out.write_all(b"250-sink\r\n250 8BITMIME\r\n")?;
            } else if command.starts_with("HELO")
                || command.starts_with("MAIL")
                || command.starts_with("RSET")
                || command.starts_with("NOOP")
            {
                out.write_all(b"250 OK\r\n")?;
            } else if command.starts_with("RCPT") {
                *self.attempts.lock().unwrap() += 1;
                let delay = *self.rcpt_delay.lock().unwrap();
                std::thread::sleep(delay);
                match self.rcpt_codes.lock().unwrap().pop_front() {
                    Some(code) => out.write_all(format!("{code} not now\r\n").as_bytes())?,
                    None => out.write_all(b"250 OK\r\n")?,
                }
            } else if command == "DATA" {
                out.write_all(b"354 go ahead\r\n")?;
                let mut message = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    message.push_str(&line);
                }
                self.messages.lock().unwrap().push(message);
                out.write_all(b"250 queued\r\n")?;
            } else if command.starts_with("QUIT") {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            } else {
                out.write_all(b"502 what\r\n")?;
            }
        }
    }
}

/// The text of a mail with quoted-printable soft breaks and `=3D` undone.
pub fn unfold(mail: &str) -> String {
    mail.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The 64-hex-digit token after `token=` in a mail.
pub fn token_in(mail: &str) -> String {
    let text = unfold(mail);
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(token.len(), 64, "{text}");
    token
}
