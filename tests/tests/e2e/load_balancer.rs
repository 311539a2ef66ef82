//! The path a council's deployment puts between devices and Doorstep: Debian's nginx in
//! front of the server, proxying sign-in, tickets and the sync WebSocket, and skipping a
//! replica that is down; and the private PostgreSQL cluster the replica tests run on.

use std::time::Duration;

use crate::server_binary;
use tests::council::{self, PASSWORD, Session};
use tests::{LoadBalancer, PostgresCluster, ServerProcess, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_signs_in_and_syncs_through_nginx_which_skips_a_replica_that_is_down() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    // A second upstream nobody listens on: a replica that has died.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr");
    let balancer = LoadBalancer::start(&[dead, server.addr]).expect("nginx");

    for round in 0..4u64 {
        // Each sign-in, ticket and socket goes through nginx, some first tried on the dead one.
        let session = Session::login(balancer.addr, "sw-north-1", PASSWORD, None)
            .await
            .unwrap_or_else(|e| panic!("sign-in through nginx: {e}\n{}", balancer.log()));
        let device = session
            .device(&format!("tablet-{round}"))
            .await
            .unwrap_or_else(|e| panic!("sync through nginx: {e}\n{}", balancer.log()));
        let id = device.create(visit_fixture::visit_for_child(
            round,
            "C-N1",
            "sw-north-1",
            200,
        ));
        device
            .wait_acknowledged(id, TIMEOUT)
            .await
            .expect("the server behind nginx acknowledged the visit");

        // Another device, through nginx too, receives it.
        let other = session
            .device(&format!("laptop-{round}"))
            .await
            .expect("laptop");
        other
            .find(id, TIMEOUT)
            .await
            .expect("find")
            .expect("the visit is there for the worker's other device");
    }
    assert!(
        balancer.log().contains(&dead.to_string()),
        "nginx tried the dead replica and passed over it: {}",
        balancer.log()
    );
    server.terminate().expect("stop");
}

#[test]
fn a_private_postgresql_cluster_starts_answers_and_stops() {
    let cluster = PostgresCluster::start().expect("cluster");
    assert_eq!(
        cluster.psql("doorstep", "SELECT 1 + 1").expect("query"),
        "2"
    );
    let version = cluster
        .psql("doorstep", "SHOW server_version_num")
        .expect("version");
    assert!(
        version.parse::<u32>().expect("number") >= 150_000,
        "PostgreSQL 15 or newer, found {version}"
    );
}
