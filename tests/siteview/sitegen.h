/* Between tests/siteview/sitegen.c and the code it takes stacks in. */
#ifndef HSW_SITEVIEW_SITEGEN_H
#define HSW_SITEVIEW_SITEGEN_H

#ifdef __cplusplus
extern "C" {
#endif

/* Takes the stack of its caller for site `which`, dropping `skip` frames
 * beyond its own (the caller stands in for an allocation function). */
typedef int (*sitegen_capture_fn)(int which, int skip);

int sitegen_library_site(sitegen_capture_fn capture, int which);
int sitegen_cxx_site(sitegen_capture_fn capture, int which);

#ifdef __cplusplus
}
#endif

#endif
