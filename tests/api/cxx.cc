// C++ through the malloc family: plain, array, aligned, nothrow and sized
// new/delete, containers, exceptions and the new-handler, with each
// block's ownership checked like the C entry points.
#include "config.h"

#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/harness.h"

struct alignas(64) CacheLine {
    unsigned char bytes[64];
};

struct alignas(4096) Page {
    unsigned char bytes[4096];
};

static volatile size_t huge_size = SIZE_MAX / 2;
static int handler_calls;

static void counting_handler()
{
    handler_calls++;
    std::set_new_handler(nullptr);
}

static void check_alignment()
{
    std::vector<CacheLine *> lines;
    for (int i = 0; i < 1000; i++) {
        lines.push_back(new CacheLine());
        CHECK(reinterpret_cast<uintptr_t>(lines.back()) % 64 == 0, "alignas(64)");
    }
    for (CacheLine *line : lines)
        delete line;
    CacheLine *array = new CacheLine[17];
    CHECK(reinterpret_cast<uintptr_t>(array) % 64 == 0, "alignas(64)[]");
    delete[] array;
    auto page = std::make_unique<Page>();
    CHECK(reinterpret_cast<uintptr_t>(page.get()) % 4096 == 0, "alignas(4096)");
    Page *nothrow_page = new (std::nothrow) Page;
    CHECK(nothrow_page != nullptr &&
              reinterpret_cast<uintptr_t>(nothrow_page) % 4096 == 0,
          "nothrow alignas(4096)");
    delete nothrow_page;
}

static void check_containers()
{
    std::map<std::string, std::vector<std::string>> index;
    for (int i = 0; i < 20000; i++)
        index["key" + std::to_string(i % 500)].push_back(std::string(40, char('a' + i % 26)));
    size_t total = 0;
    for (auto &entry : index)
        total += entry.second.size();
    CHECK(total == 20000, "map of vectors holds %zu", total);
    auto shared = std::make_shared<std::string>(1000, 'z');
    CHECK(shared->size() == 1000, "make_shared");
}

static void check_failures()
{
    bool caught = false;
    try {
        char *never = new char[huge_size];
        delete[] never;
    } catch (const std::bad_alloc &) {
        caught = true;
    }
    CHECK(caught, "new of a huge size must throw std::bad_alloc");

    CHECK(new (std::nothrow) char[huge_size] == nullptr, "nothrow new returns nullptr");

    caught = false;
    try {
        throw std::runtime_error(std::string(300, 'e'));
    } catch (const std::runtime_error &error) {
        caught = std::string(error.what()).size() == 300;
    }
    CHECK(caught, "exceptions allocate and unwind");

    handler_calls = 0;
    std::set_new_handler(counting_handler);
    caught = false;
    try {
        char *never = new char[huge_size];
        delete[] never;
    } catch (const std::bad_alloc &) {
        caught = true;
    }
    CHECK(caught && handler_calls == 1, "new-handler called %d time(s)", handler_calls);
}

static void release_plain(void *ptr) { ::operator delete(ptr); }
static void release_array(void *ptr) { ::operator delete[](ptr); }
static void release_aligned(void *ptr) { ::operator delete(ptr, std::align_val_t(128)); }

int main()
{
    CHECK_OWNER_RELEASE("operator new", 4000, ::operator new(4000), release_plain);
    CHECK_OWNER_RELEASE("operator new[]", 4000, ::operator new[](4000), release_array);
    CHECK_OWNER_RELEASE("aligned operator new", 4000,
                        ::operator new(4000, std::align_val_t(128)), release_aligned);
    check_alignment();
    check_containers();
    check_failures();
    return test_finish("cxx");
}
