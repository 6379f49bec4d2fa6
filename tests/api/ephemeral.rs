//! Ephemeral-store tests, the same on both implementations: in-process by
//! default, Redis when `ESIA_LINK_TEST_REDIS_URL` is set (a unique key prefix
//! per test).

use std::sync::Arc;
use std::time::Duration;

use esia_link::ephemeral::typed::{put_json, take_json, RateLimiter};
use esia_link::ephemeral::{MemoryStore, RedisStore, SharedEphemeral};

use crate::helpers::{redis_url, RedisCleanup};

/// The store under test and the guard that removes its Redis keys.
async fn store() -> (SharedEphemeral, Option<RedisCleanup>) {
    match redis_url() {
        Some(url) => {
            let prefix = format!("esia-link-test:{}:", uuid::Uuid::new_v4().simple());
            let store: SharedEphemeral =
                Arc::new(RedisStore::connect(&url, &prefix).await.expect("redis"));
            (store, Some(RedisCleanup::new(&url, &prefix)))
        }
        None => (Arc::new(MemoryStore::new(10_000)), None),
    }
}

#[tokio::test]
async fn put_get_delete_and_ttl() {
    let (s, _cleanup) = store().await;
    s.put("a", b"1", Duration::from_secs(30))
        .await
        .expect("put");
    assert_eq!(s.get("a").await.expect("get"), Some(b"1".to_vec()));
    s.delete("a").await.expect("delete");
    assert_eq!(s.get("a").await.expect("get"), None);

    s.put("short", b"x", Duration::from_millis(300))
        .await
        .expect("put");
    assert!(s.get("short").await.expect("get").is_some());
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(s.get("short").await.expect("get"), None, "expired");

    s.put("idle", b"x", Duration::from_millis(300))
        .await
        .expect("put");
    assert!(s
        .expire("idle", Duration::from_secs(30))
        .await
        .expect("expire"));
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(s.get("idle").await.expect("get").is_some(), "refreshed TTL");
    assert!(!s
        .expire("missing", Duration::from_secs(1))
        .await
        .expect("expire"));
}

#[tokio::test]
async fn take_is_once_even_when_racing() {
    let (s, _cleanup) = store().await;
    for round in 0..20 {
        let key = format!("login:{round}");
        put_json(
            s.as_ref(),
            &key,
            &serde_json::json!({"round": round}),
            Duration::from_secs(60),
        )
        .await
        .expect("put");
        let (a, b) = tokio::join!(
            take_json::<serde_json::Value>(s.as_ref(), &key),
            take_json::<serde_json::Value>(s.as_ref(), &key)
        );
        let winners = [a.expect("take a"), b.expect("take b")]
            .into_iter()
            .flatten()
            .count();
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test]
async fn concurrent_takes_across_tasks_have_one_winner() {
    let (s, _cleanup) = store().await;
    s.put("tx", b"state", Duration::from_secs(60))
        .await
        .expect("put");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.take("tx").await })
        })
        .collect();
    let mut won = 0;
    for h in handles {
        if h.await.expect("task").expect("take").is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn put_if_absent_and_counters() {
    let (s, _cleanup) = store().await;
    assert!(s
        .put_if_absent("once", b"1", Duration::from_secs(30))
        .await
        .expect("first"));
    assert!(!s
        .put_if_absent("once", b"2", Duration::from_secs(30))
        .await
        .expect("second"));
    assert_eq!(s.get("once").await.expect("get"), Some(b"1".to_vec()));

    for expected in 1..=3 {
        assert_eq!(
            s.incr("count", Duration::from_millis(400))
                .await
                .expect("incr"),
            expected
        );
    }
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert_eq!(
        s.incr("count", Duration::from_millis(400))
            .await
            .expect("incr"),
        1,
        "window reset"
    );
}

#[tokio::test]
async fn the_rate_limiter_allows_the_limit_then_refuses() {
    let (shared, _cleanup) = store().await;
    let limiter = RateLimiter::new(shared);
    for _ in 0..3 {
        assert!(
            limiter
                .hit("ip:1", 3, Duration::from_secs(60))
                .await
                .expect("hit")
                .allowed
        );
    }
    let refused = limiter
        .hit("ip:1", 3, Duration::from_secs(60))
        .await
        .expect("hit");
    assert!(!refused.allowed);
    assert_eq!(refused.count, 4);
    assert!(
        limiter
            .hit("ip:2", 3, Duration::from_secs(60))
            .await
            .expect("hit")
            .allowed,
        "per bucket"
    );
}

#[tokio::test]
async fn the_memory_store_evicts_beyond_its_bound() {
    // 100 entries: 20 of them for kinds other than logins, sessions and
    // rate counters.
    let s = MemoryStore::new(100);
    use esia_link::ephemeral::EphemeralStore;
    for i in 0..25 {
        s.put(&format!("k{i}"), b"v", Duration::from_secs(60 + i))
            .await
            .expect("put");
    }
    let mut present = 0;
    for i in 0..25 {
        if s.get(&format!("k{i}")).await.expect("get").is_some() {
            present += 1;
        }
    }
    assert_eq!(present, 20);
    assert!(
        s.get("k0").await.expect("get").is_none(),
        "the soonest to expire went first"
    );
    assert!(
        s.get("k24").await.expect("get").is_some(),
        "the newest stays"
    );
}

/// Two instances on one database and one Redis: what one changes, the
/// other's access cache drops (through the pub/sub channel), and an
/// instance serves from its cache only while subscribed.
#[tokio::test]
#[ignore = "needs Redis: set ESIA_LINK_TEST_REDIS_URL"]
async fn an_access_change_on_one_instance_empties_the_others_cache() {
    use esia_link::app::access_cache::Invalidation;
    use esia_link::store::{AccessTarget, ViewerTies};

    let url = redis_url().expect("set ESIA_LINK_TEST_REDIS_URL=redis://127.0.0.1:6379");
    let db = crate::helpers::fresh_database().await;
    let prefix = format!("esia-link-test:{}:", uuid::Uuid::new_v4().simple());
    let _cleanup = RedisCleanup::new(&url, &prefix);
    let mut config = esia_link::demo::demo_base_config().expect("config");
    config.database.url = esia_link::config::Secret::new(db.url.as_str());
    config.ephemeral.backend = esia_link::config::EphemeralBackend::Redis;
    config.ephemeral.redis_url = Some(esia_link::config::Secret::new(url.as_str()));
    config.ephemeral.key_prefix = prefix.clone();
    let (one, _) = esia_link::startup::build_app(config.clone())
        .await
        .expect("instance one");
    let (two, _) = esia_link::startup::build_app(config)
        .await
        .expect("instance two");
    let live = |app: &esia_link::app::App| app.access_cache().is_live();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !(live(&one) && live(&two)) {
        assert!(std::time::Instant::now() < deadline, "never subscribed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let (viewer, pupil, other) = (
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    );
    let cache = two.access_cache();
    let nothing = || {
        (
            Arc::new(AccessTarget::default()),
            Arc::new(ViewerTies::default()),
        )
    };
    for p in [pupil, other] {
        let (target, ties) = nothing();
        cache.fill(cache.ticket(), viewer, p, target, ties);
    }
    assert!(cache.get(viewer, pupil).is_some());
    one.access_changed(&[Invalidation::Pupil(pupil)]).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while cache.get(viewer, pupil).is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the other instance never heard of the change"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        cache.get(viewer, other).is_some(),
        "only the changed pupil is dropped"
    );
    one.access_changed(&[Invalidation::Viewer(viewer)]).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while cache.get(viewer, other).is_some() {
        assert!(std::time::Instant::now() < deadline, "the viewer stayed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
