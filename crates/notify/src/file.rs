//! The outbox as a file: one JSON line per message in `<dir>/outbox.jsonl`.
//! The default for development and demos, and what tests read back.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::{Message, NotifyError, Outbox, Recipient};

const FILE_NAME: &str = "outbox.jsonl";

/// A message as written to the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub to: Recipient,
    pub subject: String,
    pub body: String,
}

pub struct FileOutbox {
    path: PathBuf,
    /// One writer at a time, so concurrent lines never interleave.
    write: Mutex<()>,
}

impl FileOutbox {
    /// Creates `dir` if needed; messages go to `dir/outbox.jsonl`.
    pub fn new(dir: impl AsRef<Path>) -> Result<FileOutbox, NotifyError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| NotifyError::File {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(FileOutbox {
            path: dir.join(FILE_NAME),
            write: Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What was sent, oldest first: for tests and the demo. A missing file
    /// reads as empty; a line that does not parse is skipped.
    pub fn read(dir: impl AsRef<Path>) -> Vec<StoredMessage> {
        let Ok(text) = std::fs::read_to_string(dir.as_ref().join(FILE_NAME)) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    fn file_error(&self, source: std::io::Error) -> NotifyError {
        NotifyError::File {
            path: self.path.display().to_string(),
            source,
        }
    }
}

#[async_trait::async_trait]
impl Outbox for FileOutbox {
    async fn send(&self, message: Message) -> Result<(), NotifyError> {
        let kind = message.kind;
        let masked = message.to.masked();
        let stored = StoredMessage {
            at: Utc::now(),
            kind: kind.to_string(),
            to: message.to,
            subject: message.subject,
            body: message.body,
        };
        let mut line = serde_json::to_string(&stored)
            .map_err(|e| self.file_error(std::io::Error::other(e)))?;
        line.push('\n');

        let _guard = self.write.lock().await;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| self.file_error(e))?;
        file.write_all(line.as_bytes())
            .await
            .map_err(|e| self.file_error(e))?;
        // A tokio file finishes writing in the background unless flushed.
        file.flush().await.map_err(|e| self.file_error(e))?;
        tracing::info!(kind, to = %masked, "message written to the file outbox");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "esia-link-outbox-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        // Not created here: the outbox must create it.
        dir.join("nested")
    }

    #[tokio::test]
    async fn writes_two_reads_two() {
        let dir = temp_dir("two");
        assert!(FileOutbox::read(&dir).is_empty());
        let outbox = FileOutbox::new(&dir).expect("creates the directory");
        let messages = [
            Message {
                to: Recipient::Email("ivanova@mail.ru".into()),
                subject: "Подтвердите адрес".into(),
                body: "Ссылка: https://diary.example/confirm/abc\nСтрока два".into(),
                kind: "confirm_email",
            },
            Message {
                to: Recipient::Phone("+79161234567".into()),
                subject: String::new(),
                body: "Код: 4821".into(),
                kind: "login_code",
            },
        ];
        for message in messages.clone() {
            outbox.send(message).await.expect("written");
        }
        let read = FileOutbox::read(&dir);
        assert_eq!(read.len(), 2);
        for (stored, sent) in read.iter().zip(&messages) {
            assert_eq!(stored.kind, sent.kind);
            assert_eq!(stored.to, sent.to);
            assert_eq!(stored.subject, sent.subject);
            assert_eq!(stored.body, sent.body);
        }
        let text = std::fs::read_to_string(outbox.path()).expect("file exists");
        assert_eq!(text.lines().count(), 2);
        let _ = std::fs::remove_dir_all(dir.parent().unwrap_or(&dir));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_sends_make_whole_lines() {
        let dir = temp_dir("concurrent");
        let outbox = Arc::new(FileOutbox::new(&dir).expect("creates the directory"));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let outbox = Arc::clone(&outbox);
            tasks.push(tokio::spawn(async move {
                outbox
                    .send(Message {
                        to: Recipient::Email(format!("user{i}@example.org")),
                        subject: format!("#{i}"),
                        body: "x".repeat(10_000),
                        kind: "confirm_email",
                    })
                    .await
            }));
        }
        for task in tasks {
            task.await.expect("task ran").expect("written");
        }
        let read = FileOutbox::read(&dir);
        assert_eq!(read.len(), 20);
        let mut subjects: Vec<_> = read.iter().map(|m| m.subject.clone()).collect();
        subjects.sort();
        subjects.dedup();
        assert_eq!(subjects.len(), 20);
        let _ = std::fs::remove_dir_all(dir.parent().unwrap_or(&dir));
    }
}
