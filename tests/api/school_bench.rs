//! `esia-link bench school` on a tiny school, so that the benchmark keeps
//! running through the console's use cases as they change.

/// 20 people in classes of 3: the upload checks cleanly and is written,
/// the packet of the first class has its 3 pupils and 6 parents after a
/// cover page, and the large file (here 20 rows) is checked and written by
/// the background job.
#[tokio::test]
async fn the_school_benchmark_runs_on_a_tiny_school() {
    let db = crate::helpers::fresh_database().await;
    let mut config = esia_link::demo::demo_base_config().expect("config");
    config.database.url = esia_link::config::Secret::new(db.url.as_str());
    let bench = esia_link::demo::bench_school::SchoolBench {
        people: 20,
        class_size: 3,
        large_rows: 20,
    };
    let report = esia_link::demo::bench_school::school(config, &bench)
        .await
        .expect("bench runs");
    assert_eq!((report.school.rows, report.school.problems), (20, 0));
    assert_eq!(report.created, 20);
    assert_eq!((report.packet_pupils, report.packet_codes), (3, 9));
    // One sheet each, after one cover page.
    assert_eq!(report.pdf_pages, 10);
    assert!(report.pdf_bytes > 0 && report.pdf_seconds > 0.0);
    assert_eq!((report.large.rows, report.large.problems), (20, 0));
    assert_eq!(report.large.file_problem, None);
    assert!(report.large.hwm_after_mib >= report.large.hwm_before_mib);
    assert_eq!(
        (report.large_write.rows, report.large_write.problems),
        (20, 0)
    );
}
