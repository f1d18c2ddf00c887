//! Marks requests through the binding, for tests/bindings/rust.sh: REQUESTS
//! requests (a third with request_done(), a third with a RequestGuard, a
//! third with request()), each with exactly 4 boxes, a string and an arena
//! copy; prints the same line with or without heapswitch, the backend on
//! stderr, and exits with STATUS.
//!
//!   marks REQUESTS STATUS

fn work(i: u64, arena: &heapswitch::Arena) -> u64 {
    let boxes: [Box<u64>; 4] = [
        Box::new(i),
        Box::new(i + 1),
        Box::new(i + 2),
        Box::new(i + 3),
    ];
    let copy = arena.alloc_str("request");
    boxes.iter().map(|b| **b).sum::<u64>() + copy.len() as u64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: marks REQUESTS STATUS");
        std::process::exit(2);
    }
    let requests: u64 = args[1].parse().expect("REQUESTS: a number");
    let status: i32 = args[2].parse().expect("STATUS: a number");
    let mut arena = heapswitch::Arena::new();
    let mut sum = 0;
    for i in 0..requests {
        match i % 3 {
            0 => {
                sum += work(i, &arena);
                heapswitch::request_done();
            }
            1 => {
                let _request = heapswitch::RequestGuard::new();
                sum += work(i, &arena);
            }
            _ => sum += heapswitch::request(|| work(i, &arena)),
        }
        arena.reset();
    }
    println!("{} requests, sum {}", requests, sum);
    match heapswitch::backend_name() {
        Some(name) => eprintln!(
            "backend: {} (heapswitch {}, arena from heapswitch: {})",
            name,
            heapswitch::version().unwrap_or("?"),
            arena.uses_heapswitch()
        ),
        None => eprintln!("backend: none (heapswitch not loaded)"),
    }
    std::process::exit(status);
}
