//! A request handler written twice, as services are: the naive way
//! (a String or a Vec per field and per tag, clones, buffers grown without
//! capacity: thousands of allocations per request) and the tuned way
//! (stack buffers, buffers reused with clear(), with_capacity, borrowed
//! slices and Cow, heapswitch's explicit arena: none per request). Both
//! render the same responses; the program prints their checksum.
//!
//! Each request parses a generated header block of LINES lines
//! ("X-Field-7: Value 42 7; tags=alpha,Beta,..."), splits the fields and
//! tags, lower-cases names and tags, and renders a response listing every
//! field with its tags. Each request is marked with heapswitch's binding, so
//! `heapswitch top` shows allocations per request; without heapswitch the
//! marks are ignored and the output is the same.
//!
//!   request_handler [--naive | --tuned] [-r REQUESTS] [-l LINES]

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;
use std::process::exit;

const TAG_WORDS: [&str; 8] = [
    "alpha", "Beta", "gamma", "Delta", "epsilon", "zeta", "Eta", "theta",
];

struct Options {
    tuned: bool,
    requests: u64,
    lines: u64,
}

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(1_099_511_628_211);
    }
    hash
}

const FNV_START: u64 = 14_695_981_039_346_656_037;

/// The request's input, deterministic from its id, written into `out`.
fn write_headers(out: &mut String, id: u64, lines: u64) {
    for line in 0..lines {
        let tags = 1 + (id + line) % 5;
        let _ = write!(
            out,
            "X-Field-{}: Value {} {} ; tags=",
            line,
            id % 997,
            line * 31 % 101
        );
        for t in 0..tags {
            if t > 0 {
                out.push(',');
            }
            out.push_str(TAG_WORDS[((id + line + t) % 8) as usize]);
        }
        out.push_str("\r\n");
    }
}

// ---- naive: an owned copy of everything -------------------------------

#[derive(Clone)]
struct OwnedField {
    name: String,
    value: String,
    tags: Vec<String>,
}

fn handle_naive(id: u64, lines: u64) -> u64 {
    let mut input = String::new();
    for line in 0..lines {
        // One header line at a time, each its own String.
        let mut one = String::new();
        write_headers(&mut one, id * 1_000_003 + line, 1);
        input = input + &one.replacen("X-Field-0", &format!("X-Field-{}", line), 1);
    }
    let mut fields: Vec<OwnedField> = Vec::new();
    let mut by_name: HashMap<String, OwnedField> = HashMap::new();
    for line in input
        .split("\r\n")
        .map(|l| l.to_string())
        .collect::<Vec<String>>()
    {
        let parts: Vec<String> = line.splitn(2, ':').map(|p| p.to_string()).collect();
        if parts.len() != 2 {
            continue;
        }
        let name = parts[0]
            .chars()
            .map(|c| c.to_lowercase().to_string())
            .collect::<Vec<String>>()
            .concat();
        let halves: Vec<String> = parts[1].split(';').map(|h| h.trim().to_string()).collect();
        let value = halves[0].clone();
        let tags: Vec<String> = halves[1]
            .trim_start_matches("tags=")
            .split(',')
            .map(|t| t.to_lowercase())
            .collect();
        let field = OwnedField {
            name: name.clone(),
            value,
            tags,
        };
        by_name.insert(name, field.clone());
        fields.push(field);
    }
    let mut response = String::new();
    for field in &fields {
        let looked_up = by_name[&field.name].clone();
        let rendered = format!(
            "{}={} [{}]\n",
            looked_up.name,
            looked_up.value,
            looked_up.tags.join("|")
        );
        // The response grows a character at a time.
        for c in rendered.chars() {
            response = response + &c.to_string();
        }
    }
    fnv(FNV_START, response.as_bytes())
}

// ---- tuned: borrow, reuse, stack buffers, an arena ----------------------

#[derive(Clone, Copy)]
struct Field<'a> {
    name: &'a str,
    value: &'a str,
    tags: &'a [&'a str],
}

const EMPTY_FIELD: Field<'static> = Field {
    name: "",
    value: "",
    tags: &[],
};

/// Buffers kept from one request to the next.
struct Worker {
    input: String,
    response: String,
    arena: heapswitch::Arena,
}

impl Worker {
    fn new(lines: u64) -> Worker {
        let line_bytes = 96 * lines as usize;
        Worker {
            input: String::with_capacity(line_bytes),
            response: String::with_capacity(line_bytes),
            arena: heapswitch::Arena::new(),
        }
    }
}

/// `text` lower-cased: borrowed when it already is (most tags), else a copy in the arena.
fn lower<'a>(text: &'a str, arena: &'a heapswitch::Arena) -> Cow<'a, str> {
    if !text.bytes().any(|b| b.is_ascii_uppercase()) {
        return Cow::Borrowed(text);
    }
    let mut buffer = [0u8; 64]; // names and tags are short
    if text.len() > buffer.len() {
        return Cow::Owned(text.to_ascii_lowercase());
    }
    let lowered = &mut buffer[..text.len()];
    lowered.copy_from_slice(text.as_bytes());
    lowered.make_ascii_lowercase();
    // ASCII lower-casing keeps UTF-8 valid.
    Cow::Borrowed(arena.alloc_str(std::str::from_utf8(lowered).expect("lower-cased UTF-8")))
}

fn borrowed<'a>(text: Cow<'a, str>, arena: &'a heapswitch::Arena) -> &'a str {
    match text {
        Cow::Borrowed(text) => text,
        Cow::Owned(text) => arena.alloc_str(&text),
    }
}

fn handle_tuned(worker: &mut Worker, id: u64, lines: u64) -> u64 {
    worker.input.clear();
    for line in 0..lines {
        let start = worker.input.len();
        write_headers(&mut worker.input, id * 1_000_003 + line, 1);
        // "X-Field-0" renamed in place: same text as the naive replacen().
        let mut number = [0u8; 20];
        let digits = format_u64(line, &mut number);
        worker.input.replace_range(start + 8..start + 9, digits);
    }
    let (input, arena) = (&worker.input, &worker.arena);
    let count = input.split("\r\n").filter(|l| l.contains(':')).count();
    let mut lines_iter = input.split("\r\n").filter(|l| l.contains(':'));
    let fields = arena.alloc_slice_fill_with(count, |_| EMPTY_FIELD);
    for field in fields.iter_mut() {
        let line = lines_iter.next().expect("counted line");
        let (name, rest) = line.split_once(':').expect("a colon");
        let (value, tag_list) = rest.split_once(';').unwrap_or((rest, ""));
        let tag_list = tag_list.trim().trim_start_matches("tags=");
        let mut tag_iter = tag_list.split(',');
        let tags = arena.alloc_slice_fill_with(tag_list.split(',').count(), |_| {
            borrowed(lower(tag_iter.next().expect("counted tag"), arena), arena)
        });
        *field = Field {
            name: borrowed(lower(name, arena), arena),
            value: value.trim(),
            tags,
        };
    }
    let response = &mut worker.response;
    response.clear();
    for field in fields.iter() {
        let _ = write!(response, "{}={} [", field.name, field.value);
        for (t, tag) in field.tags.iter().enumerate() {
            if t > 0 {
                response.push('|');
            }
            response.push_str(tag);
        }
        response.push_str("]\n");
    }
    let hash = fnv(FNV_START, response.as_bytes());
    worker.arena.reset();
    hash
}

/// `value` in decimal, in `buffer`.
fn format_u64(mut value: u64, buffer: &mut [u8; 20]) -> &str {
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    std::str::from_utf8(&buffer[at..]).expect("digits")
}

fn usage(problem: &str) -> ! {
    eprintln!("request_handler: {}", problem);
    eprintln!("usage: request_handler [--naive | --tuned] [-r REQUESTS] [-l LINES]");
    exit(2);
}

fn parse_options() -> Options {
    let mut options = Options {
        tuned: false,
        requests: 2000,
        lines: 120,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--naive" => options.tuned = false,
            "--tuned" => options.tuned = true,
            "-r" | "-l" => {
                let text = args
                    .next()
                    .unwrap_or_else(|| usage(&format!("{} needs a number", arg)));
                let number = match text.parse::<u64>() {
                    Ok(n) if n > 0 && n <= 100_000_000 => n,
                    _ => usage(&format!(
                        "{} needs a number from 1 to 100000000, not '{}'",
                        arg, text
                    )),
                };
                if arg == "-r" {
                    options.requests = number;
                } else if number > 10_000 {
                    usage(&format!("-l needs at most 10000 lines, not '{}'", text));
                } else {
                    options.lines = number;
                }
            }
            "-h" | "--help" => {
                println!("usage: request_handler [--naive | --tuned] [-r REQUESTS] [-l LINES]");
                exit(0);
            }
            _ => usage(&format!("unknown argument '{}'", arg)),
        }
    }
    options
}

fn main() {
    let options = parse_options();
    let mut checksum = FNV_START;
    if options.tuned {
        let mut worker = Worker::new(options.lines);
        for id in 0..options.requests {
            let _request = heapswitch::RequestGuard::new();
            checksum ^= handle_tuned(&mut worker, id, options.lines).rotate_left((id % 64) as u32);
        }
    } else {
        for id in 0..options.requests {
            let _request = heapswitch::RequestGuard::new();
            checksum ^= handle_naive(id, options.lines).rotate_left((id % 64) as u32);
        }
    }
    println!(
        "{} requests of {} lines, checksum {:016x}",
        options.requests, options.lines, checksum
    );
}
