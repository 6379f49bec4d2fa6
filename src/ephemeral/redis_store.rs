//! Redis: shared by every instance. SET PX / SET NX PX, GETDEL for take-once,
//! INCR + PEXPIRE in one script for counters.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::{EphemeralError, EphemeralStore};

/// INCR, and give the counter its window when it is new (or lost its TTL),
/// in one atomic step.
const INCR_WITH_WINDOW: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
";

#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    incr: Script,
}

fn unavailable(error: redis::RedisError) -> EphemeralError {
    EphemeralError::Unavailable(error.to_string())
}

fn millis(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(1)
}

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisStore, EphemeralError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let connection = ConnectionManager::new(client).await.map_err(unavailable)?;
        Ok(RedisStore {
            connection,
            prefix: prefix.to_string(),
            incr: Script::new(INCR_WITH_WINDOW),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait::async_trait]
impl EphemeralStore for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), EphemeralError> {
        let mut c = self.connection.clone();
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut c)
            .await
            .map_err(unavailable)
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, EphemeralError> {
        let mut c = self.connection.clone();
        let answer: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(answer.is_some())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        let mut c = self.connection.clone();
        c.get(self.key(key)).await.map_err(unavailable)
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        let mut c = self.connection.clone();
        redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async(&mut c)
            .await
            .map_err(unavailable)
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        let mut c = self.connection.clone();
        c.del::<_, ()>(self.key(key)).await.map_err(unavailable)
    }

    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, EphemeralError> {
        let mut c = self.connection.clone();
        let set: i64 = redis::cmd("PEXPIRE")
            .arg(self.key(key))
            .arg(millis(ttl))
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(set == 1)
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, EphemeralError> {
        let mut c = self.connection.clone();
        let n: i64 = self
            .incr
            .key(self.key(key))
            .arg(millis(window))
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(n.max(0) as u64)
    }

    fn backend_name(&self) -> &'static str {
        "redis"
    }
}
