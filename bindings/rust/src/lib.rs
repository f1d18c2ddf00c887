//! heapswitch's public API for Rust programs: request marks, the backend's
//! name and explicit arenas.
//!
//! Nothing is linked: every function is looked up at run time in the
//! process's global scope (`dlsym(RTLD_DEFAULT, ...)`), once, so a program
//! built with this crate runs unchanged without libheapswitch — marks are
//! then ignored, [`backend_name`] is `None` and [`Arena`] falls back to a
//! bump allocator of its own.
//!
//! ```no_run
//! for _ in 0..3 {
//!     let _request = heapswitch::RequestGuard::new(); // marked done when dropped
//!     // ... handle one request ...
//! }
//! ```
//!
//! Std only: it builds with Rust 1.63 and no registry.

use std::cell::{Cell, UnsafeCell};
use std::os::raw::{c_char, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

extern "C" {
    // In libc itself since glibc 2.34 (Debian 12 has 2.36).
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// Cache states of a looked-up symbol: not looked up yet, absent, or its address.
const UNRESOLVED: usize = 0;
const ABSENT: usize = 1;

/// One symbol of libheapswitch, looked up at its first use. Concurrent first
/// uses may both look it up; they store the same answer.
struct Symbol {
    name: &'static [u8], // NUL-terminated
    address: AtomicUsize,
}

impl Symbol {
    const fn new(name: &'static [u8]) -> Symbol {
        Symbol {
            name,
            address: AtomicUsize::new(UNRESOLVED),
        }
    }

    fn get(&self) -> Option<usize> {
        let mut address = self.address.load(Ordering::Relaxed);
        if address == UNRESOLVED {
            // RTLD_DEFAULT is the null handle.
            let found = unsafe { dlsym(std::ptr::null_mut(), self.name.as_ptr() as *const c_char) };
            address = if found.is_null() {
                ABSENT
            } else {
                found as usize
            };
            self.address.store(address, Ordering::Relaxed);
        }
        if address == ABSENT {
            None
        } else {
            Some(address)
        }
    }
}

static REQUEST_DONE: Symbol = Symbol::new(b"heapswitch_request_done\0");
static BACKEND_NAME: Symbol = Symbol::new(b"heapswitch_backend_name\0");
static VERSION: Symbol = Symbol::new(b"heapswitch_version\0");
static ARENA_CREATE: Symbol = Symbol::new(b"heapswitch_arena_create\0");
static ARENA_ALLOC_ALIGNED: Symbol = Symbol::new(b"heapswitch_arena_alloc_aligned\0");
static ARENA_RESET: Symbol = Symbol::new(b"heapswitch_arena_reset\0");
static ARENA_DESTROY: Symbol = Symbol::new(b"heapswitch_arena_destroy\0");
static ARENA_BYTES_HELD: Symbol = Symbol::new(b"heapswitch_arena_bytes_held\0");

type StringFn = extern "C" fn() -> *const c_char;
type VoidFn = extern "C" fn();
type ArenaCreateFn = extern "C" fn(usize) -> *mut c_void;
type ArenaAllocFn = extern "C" fn(*mut c_void, usize, usize) -> *mut c_void;
type ArenaFn = extern "C" fn(*mut c_void);
type ArenaSizeFn = extern "C" fn(*const c_void) -> usize;

/// Whether libheapswitch is loaded (preloaded or linked) in this process.
pub fn is_loaded() -> bool {
    REQUEST_DONE.get().is_some()
}

/// Marks the end of one request (or any unit of work): heapswitch's readers
/// divide allocations and bytes by the count. A no-op without heapswitch.
pub fn request_done() {
    if let Some(address) = REQUEST_DONE.get() {
        let function: VoidFn = unsafe { std::mem::transmute(address) };
        function();
    }
}

fn static_string(symbol: &Symbol) -> Option<&'static str> {
    let address = symbol.get()?;
    let function: StringFn = unsafe { std::mem::transmute(address) };
    let text = function();
    if text.is_null() {
        return None;
    }
    // The library returns static strings.
    unsafe { std::ffi::CStr::from_ptr(text) }.to_str().ok()
}

/// The backend serving this process's allocations ("system", "jemalloc",
/// "mimalloc", "arena"), or `None` without heapswitch.
pub fn backend_name() -> Option<&'static str> {
    static_string(&BACKEND_NAME)
}

/// The version of the loaded libheapswitch, or `None` without it.
pub fn version() -> Option<&'static str> {
    static_string(&VERSION)
}

/// A request in progress: marked done (see [`request_done`]) when the guard
/// is dropped, also when a panic unwinds through it.
#[must_use = "the request is marked done when the guard is dropped"]
pub struct RequestGuard {
    _not_constructible_outside: (),
}

impl RequestGuard {
    /// Starts a request.
    pub fn new() -> RequestGuard {
        RequestGuard {
            _not_constructible_outside: (),
        }
    }
}

impl Default for RequestGuard {
    fn default() -> RequestGuard {
        RequestGuard::new()
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        request_done();
    }
}

/// Runs `handler` as one request: marked done when it returns (or panics).
pub fn request<T, F: FnOnce() -> T>(handler: F) -> T {
    let _request = RequestGuard::new();
    handler()
}

/// The arena functions of libheapswitch, all present or none used.
#[derive(Clone, Copy)]
struct ArenaApi {
    alloc_aligned: ArenaAllocFn,
    reset: ArenaFn,
    destroy: ArenaFn,
    bytes_held: ArenaSizeFn,
}

fn arena_api() -> Option<(ArenaCreateFn, ArenaApi)> {
    let create = ARENA_CREATE.get()?;
    let alloc_aligned = ARENA_ALLOC_ALIGNED.get()?;
    let reset = ARENA_RESET.get()?;
    let destroy = ARENA_DESTROY.get()?;
    let bytes_held = ARENA_BYTES_HELD.get()?;
    unsafe {
        Some((
            std::mem::transmute::<usize, ArenaCreateFn>(create),
            ArenaApi {
                alloc_aligned: std::mem::transmute::<usize, ArenaAllocFn>(alloc_aligned),
                reset: std::mem::transmute::<usize, ArenaFn>(reset),
                destroy: std::mem::transmute::<usize, ArenaFn>(destroy),
                bytes_held: std::mem::transmute::<usize, ArenaSizeFn>(bytes_held),
            },
        ))
    }
}

/// Without heapswitch: chunks from the global allocator, kept across resets.
/// Raw blocks, not boxes: blocks handed out stay valid while chunks are added.
struct OwnChunks {
    chunks: Vec<(*mut u8, std::alloc::Layout)>,
    current: usize,
    used: usize, // bytes used in chunks[current]
}

impl Drop for OwnChunks {
    fn drop(&mut self) {
        for (chunk, layout) in self.chunks.drain(..) {
            unsafe { std::alloc::dealloc(chunk, layout) };
        }
    }
}

enum Backing {
    Heapswitch(*mut c_void, ArenaApi),
    Own(UnsafeCell<OwnChunks>),
}

/// Request-scoped memory: allocate during a request, then [`Arena::reset`]
/// frees everything at once. Under heapswitch it is heapswitch's explicit
/// arena (memory from mmap: no malloc call, whatever the backend);
/// without it, a bump allocator over chunks of its own. Values placed in it
/// are never dropped, hence the `Copy` bounds.
pub struct Arena {
    backing: Backing,
    chunk_size: usize,
    // Not Sync: allocation goes through a shared reference.
    _not_sync: Cell<()>,
}

// One thread at a time, which moving it to another thread respects.
unsafe impl Send for Arena {}

const DEFAULT_CHUNK: usize = 64 << 10;

impl Arena {
    /// An arena growing by 64 KiB chunks.
    pub fn new() -> Arena {
        Arena::with_chunk_size(DEFAULT_CHUNK)
    }

    /// An arena growing by chunks of `chunk_size` bytes (0: 64 KiB).
    pub fn with_chunk_size(chunk_size: usize) -> Arena {
        let chunk_size = if chunk_size == 0 {
            DEFAULT_CHUNK
        } else {
            chunk_size
        };
        if let Some((create, api)) = arena_api() {
            let arena = create(chunk_size);
            if !arena.is_null() {
                return Arena {
                    backing: Backing::Heapswitch(arena, api),
                    chunk_size,
                    _not_sync: Cell::new(()),
                };
            }
        }
        let own = OwnChunks {
            chunks: Vec::new(),
            current: 0,
            used: 0,
        };
        Arena {
            backing: Backing::Own(UnsafeCell::new(own)),
            chunk_size,
            _not_sync: Cell::new(()),
        }
    }

    /// Whether the memory comes from heapswitch's explicit arena.
    pub fn uses_heapswitch(&self) -> bool {
        matches!(self.backing, Backing::Heapswitch(..))
    }

    /// `size` bytes aligned to `align` (a power of two), size > 0.
    fn allocate(&self, size: usize, align: usize) -> *mut u8 {
        let block = match &self.backing {
            Backing::Heapswitch(arena, api) => {
                (api.alloc_aligned)(*arena, align.max(16), size) as *mut u8
            }
            Backing::Own(own) => unsafe {
                own_allocate(&mut *own.get(), self.chunk_size, size, align)
            },
        };
        if block.is_null() {
            let layout =
                std::alloc::Layout::from_size_align(size, align).expect("arena block layout");
            std::alloc::handle_alloc_error(layout);
        }
        block
    }

    /// A copy of `text` in the arena.
    pub fn alloc_str(&self, text: &str) -> &str {
        let bytes = self.alloc_slice_copy(text.as_bytes());
        // A copy of valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// A copy of `items` in the arena.
    #[allow(clippy::mut_from_ref)] // each call returns a new, disjoint block
    pub fn alloc_slice_copy<T: Copy>(&self, items: &[T]) -> &mut [T] {
        self.alloc_slice_fill_with(items.len(), |i| items[i])
    }

    /// A slice of `length` items, item i made by `make(i)`.
    #[allow(clippy::mut_from_ref)] // each call returns a new, disjoint block
    pub fn alloc_slice_fill_with<T: Copy, F: FnMut(usize) -> T>(
        &self,
        length: usize,
        mut make: F,
    ) -> &mut [T] {
        let size = std::mem::size_of::<T>()
            .checked_mul(length)
            .expect("arena slice too large");
        let start: *mut T = if size == 0 {
            std::ptr::NonNull::dangling().as_ptr()
        } else {
            self.allocate(size, std::mem::align_of::<T>()) as *mut T
        };
        for i in 0..length {
            unsafe { start.add(i).write(make(i)) };
        }
        // Disjoint from every other block until reset(), which needs &mut self.
        unsafe { std::slice::from_raw_parts_mut(start, length) }
    }

    /// Frees every block at once; keeps memory for the next request.
    pub fn reset(&mut self) {
        match &mut self.backing {
            Backing::Heapswitch(arena, api) => (api.reset)(*arena),
            Backing::Own(own) => {
                let own = own.get_mut();
                own.current = 0;
                own.used = 0;
            }
        }
    }

    /// Bytes the arena holds.
    pub fn bytes_held(&self) -> usize {
        match &self.backing {
            Backing::Heapswitch(arena, api) => (api.bytes_held)(*arena),
            Backing::Own(own) => unsafe { &*own.get() }
                .chunks
                .iter()
                .map(|(_, layout)| layout.size())
                .sum(),
        }
    }
}

impl Default for Arena {
    fn default() -> Arena {
        Arena::new()
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        if let Backing::Heapswitch(arena, api) = &self.backing {
            (api.destroy)(*arena);
        }
    }
}

fn own_allocate(own: &mut OwnChunks, chunk_size: usize, size: usize, align: usize) -> *mut u8 {
    loop {
        if let Some(&(chunk, layout)) = own.chunks.get(own.current) {
            let base = chunk as usize;
            let start = (base + own.used + align - 1) & !(align - 1);
            if start <= base + layout.size() && size <= base + layout.size() - start {
                own.used = start + size - base;
                return chunk.wrapping_add(start - base);
            }
            own.current += 1;
            own.used = 0;
            continue;
        }
        let bytes = match size.checked_add(align) {
            Some(bytes) => bytes.max(chunk_size),
            None => return std::ptr::null_mut(),
        };
        let layout = match std::alloc::Layout::from_size_align(bytes, 16) {
            Ok(layout) => layout,
            Err(_) => return std::ptr::null_mut(),
        };
        let chunk = unsafe { std::alloc::alloc(layout) };
        if chunk.is_null() {
            return chunk;
        }
        own.chunks.push((chunk, layout));
        own.current = own.chunks.len() - 1;
        own.used = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_heapswitch_marks_are_ignored() {
        // cargo test does not load libheapswitch.
        assert!(!is_loaded());
        assert_eq!(backend_name(), None);
        request_done();
        let _request = RequestGuard::new();
        assert_eq!(request(|| 7), 7);
    }

    #[test]
    fn own_arena_copies_and_resets() {
        let mut arena = Arena::with_chunk_size(4096);
        assert!(!arena.uses_heapswitch());
        let first = arena.alloc_str("hello").as_ptr();
        let words: Vec<&str> = (0..2000)
            .map(|i| if i % 2 == 0 { "even" } else { "odd" })
            .collect();
        let copied = arena.alloc_slice_copy(&words);
        assert_eq!(copied.len(), 2000);
        assert_eq!(copied[1999], "odd");
        let wide = arena.alloc_slice_fill_with(3, |i| i as u64 * 3);
        assert_eq!(wide, &[0, 3, 6]);
        assert_eq!(wide.as_ptr() as usize % 8, 0);
        assert!(arena.alloc_slice_copy::<u8>(&[]).is_empty());
        let held = arena.bytes_held();
        assert!(held >= 2000 * std::mem::size_of::<&str>());
        arena.reset();
        assert_eq!(arena.alloc_str("again").as_ptr(), first);
        assert_eq!(arena.bytes_held(), held);
    }
}
