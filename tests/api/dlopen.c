/* dlopen/dlclose cycles of a module that allocates in its constructor and
 * has TLS that the loader allocates (trap 4: the loader's memalign path
 * and free must agree). Then the module loaded with RTLD_DEEPBIND, which
 * would bind its malloc and free to libc's (PHP loads its extensions so):
 * blocks must still cross between it and the program. Then a load by bare
 * name that only this program's RUNPATH resolves: heapswitch's dlopen
 * must leave the caller glibc sees alone. */
#include "config.h"

#include <pthread.h>

#include "tests/harness.h"

static void *module_thread(void *arg)
{
    char *(*thread_buffer)(void) = (char *(*)(void))arg;
    char *buffer = thread_buffer();
    return buffer != NULL && buffer[0] == 'x' ? buffer : NULL;
}

static void deepbind(const char *path)
{
    void *module = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    void *(*alloc)(size_t);
    void (*release)(void *);

    CHECK(module != NULL, "dlopen(%s, RTLD_DEEPBIND): %s", path, dlerror());
    if (module == NULL)
        return;
    alloc = (void *(*)(size_t))dlsym(module, "libctor_alloc");
    release = (void (*)(void *))dlsym(module, "libctor_release");
    CHECK(alloc != NULL && release != NULL, "the module's malloc and free");
    if (alloc == NULL || release == NULL)
        return;
    for (int i = 0; i < 1000; i++) {
        char *ours = malloc(100 + (size_t)i);
        char *theirs = alloc(100 + (size_t)i);

        CHECK(ours != NULL && theirs != NULL, "allocations");
        if (ours == NULL || theirs == NULL)
            return;
        memset(ours, 'o', 100);
        memset(theirs, 't', 100);
        release(ours); /* a block of the program, freed by the module */
        free(theirs);  /* and the other way */
    }
    /* The module's block comes from the active backend, like any other. */
    CHECK_OWNER_RELEASE("malloc in a module loaded with RTLD_DEEPBIND", 100000, alloc(100000),
                        release);
    CHECK(dlclose(module) == 0, "dlclose: %s", dlerror());
}

/* tests_api_dlopen_LDFLAGS gives this program a RUNPATH to the module's
 * directory; glibc applies it only when this program is dlopen's caller. */
static void by_runpath(void)
{
    void *module = dlopen("libctor.so", RTLD_NOW | RTLD_LOCAL);

    CHECK(module != NULL, "dlopen(\"libctor.so\") through this program's RUNPATH: %s",
          dlerror());
    if (module != NULL)
        CHECK(dlclose(module) == 0, "dlclose: %s", dlerror());
}

int main(int argc, char **argv)
{
    char path[4096];
    const char *slash = strrchr(argv[0], '/');

    (void)argc;
    snprintf(path, sizeof path, "%.*s/.libs/libctor.so",
             slash != NULL ? (int)(slash - argv[0]) : 1,
             slash != NULL ? argv[0] : ".");
    for (int cycle = 0; cycle < 300; cycle++) {
        void *module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        const char *(*state)(void);
        char *(*copy)(const char *);
        char *(*thread_buffer)(void);
        pthread_t threads[2];

        CHECK(module != NULL, "dlopen(%s): %s", path, dlerror());
        if (module == NULL)
            break;
        state = (const char *(*)(void))dlsym(module, "libctor_state");
        copy = (char *(*)(const char *))dlsym(module, "libctor_copy");
        thread_buffer = (char *(*)(void))dlsym(module, "libctor_thread_buffer");
        CHECK(state != NULL && strcmp(state(), "constructed") == 0,
              "the constructor's block");
        char *text = copy("returned by the module");
        CHECK(strcmp(text, "returned by the module") == 0, "copy");
        free(text);
        CHECK(thread_buffer()[0] == 'x', "TLS in the main thread");
        for (int t = 0; t < 2; t++)
            pthread_create(&threads[t], NULL, module_thread, (void *)thread_buffer);
        for (int t = 0; t < 2; t++) {
            void *result = NULL;
            pthread_join(threads[t], &result);
            CHECK(result != NULL, "TLS in a thread");
        }
        CHECK(dlclose(module) == 0, "dlclose: %s", dlerror());
    }
    deepbind(path);
    by_runpath();
    return test_finish("dlopen");
}
