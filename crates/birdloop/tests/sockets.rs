//! Sockets in loops: pause/resume of RX, reloop under traffic, sockets opened in a loop.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use birdloop::{Interest, Loop, LoopGuard, Ready, SockKey, ThreadGroup};
use birdrcu::LevelId;
use common::{scaled, wait_until};

const LONG: Duration = Duration::from_secs(30);

/// A handler that reads everything available into `sink`.
fn reader(
    sink: Arc<Mutex<Vec<u8>>>,
) -> impl FnMut(&mut LoopGuard<'_>, SockKey, &mut UnixStream, Ready) + Send + 'static {
    move |_, _, s, ready| {
        assert!(ready.readable);
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => panic!("read: {e}"),
            }
        }
    }
}

#[test]
fn paused_socket_is_not_read_and_resume_delivers_buffered_bytes() {
    let group = ThreadGroup::worker(1).unwrap();
    let lp = Loop::new("pausing", LevelId::Proto, &group);
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let key = lp.enter().add_socket(a, Interest::READ, reader(Arc::clone(&got))).unwrap();
    b.write_all(b"hello").unwrap();
    assert!(wait_until(LONG, || got.lock().unwrap().len() == 5));
    {
        let mut g = lp.enter();
        g.pause_rx(key).unwrap();
        assert!(g.rx_paused(key));
    }
    b.write_all(&[7u8; 1000]).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(got.lock().unwrap().len(), 5, "a paused socket was read");
    lp.enter().resume_rx(key).unwrap();
    assert!(wait_until(LONG, || got.lock().unwrap().len() == 1005));
    // The peer closing while paused must not make the thread spin or lose the tail.
    lp.enter().pause_rx(key).unwrap();
    b.write_all(b"tail").unwrap();
    drop(b);
    std::thread::sleep(Duration::from_millis(50));
    lp.enter().resume_rx(key).unwrap();
    assert!(wait_until(LONG, || got.lock().unwrap().len() == 1009));
    let s: Option<UnixStream> = lp.enter().remove_socket(key);
    assert!(s.is_some());
    group.shutdown();
}

#[test]
fn reloop_under_traffic_loses_no_bytes() {
    let total = scaled(4 << 20, 1 << 20);
    let group = ThreadGroup::worker(2).unwrap();
    let a = Loop::new("reloop a", LevelId::Proto, &group);
    let b = Loop::new("reloop b", LevelId::Service, &group);
    let (rx, mut tx) = UnixStream::pair().unwrap();
    rx.set_nonblocking(true).unwrap();
    let got = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let mut key = a.enter().add_socket(rx, Interest::READ, reader(Arc::clone(&got))).unwrap();
    let writing = Arc::new(AtomicBool::new(true));
    let w = Arc::clone(&writing);
    let writer = std::thread::spawn(move || {
        let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        for chunk in data.chunks(1000) {
            tx.write_all(chunk).unwrap();
        }
        w.store(false, Ordering::Release);
        tx
    });
    let mut in_a = true;
    let mut moves = 0;
    while writing.load(Ordering::Acquire) || moves < 20 {
        std::thread::sleep(Duration::from_millis(2));
        // Both loops held, in lock order (proto, then service).
        let mut ga = a.enter();
        let mut gb = b.enter();
        key = if in_a {
            ga.reloop_socket(key, &mut gb).unwrap().unwrap()
        } else {
            gb.reloop_socket(key, &mut ga).unwrap().unwrap()
        };
        in_a = !in_a;
        moves += 1;
        assert_eq!(ga.socket_count() + gb.socket_count(), 1);
    }
    let _tx = writer.join().unwrap();
    assert!(wait_until(LONG, || got.lock().unwrap().len() == total), "bytes lost");
    let got = got.lock().unwrap();
    assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8), "bytes reordered or corrupted");
    assert!(moves >= 20);
    group.shutdown();
}

#[test]
fn tcp_and_unix_sockets_opened_in_a_loop() {
    let group = ThreadGroup::worker(1).unwrap();
    let lp = Loop::new("listener", LevelId::Proto, &group);
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let got = Arc::new(Mutex::new(Vec::new()));
    let (acc, g2) = (Arc::clone(&accepted), Arc::clone(&got));
    let (lkey, addr) = {
        let mut g = lp.enter();
        let k = g
            .tcp_listen("127.0.0.1:0".parse().unwrap(), 16, move |g, _, l, _| {
                while let Ok((s, peer)) = l.accept() {
                    acc.lock().unwrap().push(peer);
                    s.set_nonblocking(true).unwrap();
                    let g3 = Arc::clone(&g2);
                    g.add_socket(s, Interest::READ, move |_, _, s: &mut socket2::Socket, _| {
                        let mut buf = [0u8; 64];
                        while let Ok(n) = s.read(&mut buf) {
                            if n == 0 {
                                break;
                            }
                            g3.lock().unwrap().extend_from_slice(&buf[..n]);
                        }
                    })
                    .unwrap();
                }
            })
            .unwrap();
        let addr =
            g.with_socket(k, |l: &mut socket2::Socket| l.local_addr().unwrap().as_socket().unwrap()).unwrap();
        (k, addr)
    };
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.write_all(b"bgp open").unwrap();
    assert!(wait_until(LONG, || got.lock().unwrap().as_slice() == b"bgp open"));
    assert_eq!(accepted.lock().unwrap().len(), 1);

    // UNIX stream socket (the CLI's kind), opened in the loop.
    let dir = std::env::temp_dir().join(format!("birdloop-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cli.ctl");
    let _ = std::fs::remove_file(&path);
    let cli_got = Arc::new(Mutex::new(Vec::new()));
    let cg = Arc::clone(&cli_got);
    lp.enter()
        .unix_listen(&path, move |g, _, l, _| {
            while let Ok((s, _)) = l.accept() {
                s.set_nonblocking(true).unwrap();
                g.add_socket(s, Interest::READ, reader(Arc::clone(&cg))).unwrap();
            }
        })
        .unwrap();
    let mut u = UnixStream::connect(&path).unwrap();
    u.write_all(b"show threads\n").unwrap();
    assert!(wait_until(LONG, || cli_got.lock().unwrap().as_slice() == b"show threads\n"));
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir(&dir);
    let _ = lp.enter().remove_socket::<socket2::Socket>(lkey);
    group.shutdown();
}
