/* dlopen/dlclose cycles of a module that allocates in its constructor and
 * has TLS that the loader allocates (trap 4: the loader's memalign path
 * and free must agree). */
#include "config.h"

#include <pthread.h>

#include "tests/harness.h"

static void *module_thread(void *arg)
{
    char *(*thread_buffer)(void) = (char *(*)(void))arg;
    char *buffer = thread_buffer();
    return buffer != NULL && buffer[0] == 'x' ? buffer : NULL;
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
    return test_finish("dlopen");
}
