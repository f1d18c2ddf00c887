/* HSW_EXPORT: what the libraries export. Both are built with
 * -fvisibility=hidden, so a public name (the malloc family, heapswitch_*)
 * carries this and nothing else leaks into the programs they are loaded in.
 * Free of other includes: the reader library uses it too. */
#ifndef HSW_EXPORT_H
#define HSW_EXPORT_H

#define HSW_EXPORT __attribute__((visibility("default")))

#endif
