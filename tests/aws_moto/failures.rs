use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failed_kind_is_reported_and_a_blind_status_is_not_healthy() {
    let Some(moto) = Moto::start_denying(&[
        "cloudwatch:DescribeAlarms",
        "application-autoscaling:DescribeScalableTargets",
    ]) else {
        return;
    };
    fake_credentials();
    // One service parked at desired 0: steady on what ECS says.
    let conf = sdk_conf(&moto.url, "us-east-1").await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let td = ecs
        .register_task_definition()
        .family("idle")
        .network_mode(t::NetworkMode::Bridge)
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("idle")
                .image("nginx:1.27")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let td_arn = td
        .task_definition()
        .and_then(|d| d.task_definition_arn())
        .unwrap()
        .to_string();
    ecs.create_cluster()
        .cluster_name("ops")
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster("ops")
        .service_name("idle")
        .task_definition(&td_arn)
        .desired_count(0)
        .send()
        .await
        .unwrap();
    let out = ecsdeck_against(&moto.url, &["status", "--format", "json"]);
    let v = json_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(v["services"][0]["health"], "steady", "{v}");
    let kinds: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"cloudwatch") && kinds.contains(&"autoscaling"),
        "every failed kind, not the first: {kinds:?}"
    );
    // One stderr line per failed kind.
    assert!(
        stderr.contains("not read: cloudwatch (us-east-1)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not read: autoscaling (us-east-1)"),
        "{stderr}"
    );
    // Alarms could not be read: "steady" is not the whole truth.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot call the fleet healthy"), "{stderr}");
    let out = ecsdeck_against(
        &moto.url,
        &["status", "--format", "text", "--allow-missing-data"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An endpoint that accepts connections and never answers.
fn silent_endpoint() -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        let start = Instant::now();
        // Bounded: it stops by itself after two minutes.
        while !flag.load(std::sync::atomic::Ordering::Relaxed)
            && start.elapsed() < Duration::from_secs(120)
        {
            if let Ok((conn, _)) = listener.accept() {
                held.push(conn);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    (url, stop)
}

#[test]
fn a_silent_endpoint_fails_within_the_deadline() {
    fake_credentials();
    let (url, stop) = silent_endpoint();
    for (args, limit) in [
        (vec!["status", "--timeout", "3s"], 3.0),
        (vec!["review", "--format", "json", "--timeout", "2s"], 2.0),
    ] {
        let started = Instant::now();
        let out = ecsdeck_against(&url, &args);
        let took = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        // The deadline holds (with room for process start and a slow CI
        // machine; before, this took 120 s).
        assert!(took < limit + 10.0, "{args:?} took {took:.1}s: {stderr}");
        // The message gives the real elapsed time and the limit.
        assert!(
            stderr.contains("no answer within")
                && stderr.contains(&format!("--timeout of {limit}s")),
            "{stderr}"
        );
        assert!(!stderr.contains("after 60s"), "{stderr}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
}
