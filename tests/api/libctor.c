/* A module that allocates in its constructor, frees in its destructor and
 * has thread-local storage that the dynamic loader allocates with malloc. */
#include <stdlib.h>
#include <string.h>

static char *constructed;
static __thread char thread_buffer[4096];

__attribute__((constructor)) static void libctor_init(void)
{
    constructed = malloc(1000);
    strcpy(constructed, "constructed");
}

__attribute__((destructor)) static void libctor_fini(void)
{
    free(constructed);
}

const char *libctor_state(void);
const char *libctor_state(void)
{
    return constructed;
}

/* Returns a block the caller frees. */
char *libctor_copy(const char *text);
char *libctor_copy(const char *text)
{
    return strdup(text);
}

/* Touches this thread's TLS block, making the loader allocate it. */
char *libctor_thread_buffer(void);
char *libctor_thread_buffer(void)
{
    thread_buffer[0] = 'x';
    return thread_buffer;
}

/* Its own malloc and free: libc's when the module is loaded with
 * RTLD_DEEPBIND, unless heapswitch drops the flag. */
void *libctor_alloc(size_t size);
void *libctor_alloc(size_t size)
{
    return malloc(size);
}

void libctor_release(void *block);
void libctor_release(void *block)
{
    free(block);
}
