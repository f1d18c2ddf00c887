/* The state of `heapswitch top` shared by its screens (cmd_top.c runs
 * the loop; screen_list.c, screen_detail.c, screen_ab.c and
 * screen_help.c draw and handle keys). A screen is a const struct of
 * function pointers, as htop's panels are. */
#ifndef HSW_TOP_H
#define HSW_TOP_H

#include <stdbool.h>
#include <sys/types.h>

#include "dashboard/ab_model.h"
#include "dashboard/model.h"
#include "dashboard/table.h"

#define TOP_MAX_PIDS 1024

/* What a key handler asks of the loop. */
enum top_result {
    TOP_IGNORED = 0,
    TOP_HANDLED = 1,
    TOP_REDRAW = 2, /* the rows must be selected and sorted again */
    TOP_RESCAN = 4, /* scan the segments now */
    TOP_QUIT = 8,
};

enum top_view {
    TOP_VIEW_LIST,
    TOP_VIEW_DETAIL,
    TOP_VIEW_AB,
    TOP_VIEW_HELP,
    TOP_VIEW_COUNT
};

struct top_state {
    struct hsw_model model;
    double delay; /* seconds between scans */
    enum hsw_column sort;
    bool reverse;
    char filter[64];     /* matched against command, backend, tag, labels */
    bool editing_filter; /* typing after '/' */
    bool paused;
    pid_t pids[TOP_MAX_PIDS]; /* -p: only these, when pid_count > 0 */
    size_t pid_count;
    const struct hsw_proc **rows; /* filtered and sorted, this frame */
    size_t row_count;
    pid_t selected_pid; /* the row under the cursor */
    size_t selected;    /* its index in rows */
    bool follow;        /* the user moved it: it follows the process */
    size_t scroll;      /* first row shown */
    enum top_view view;
    enum top_view help_return; /* the view help goes back to */
    bool group_by_tag;         /* A/B view: arms by tag instead of backend */
    struct hsw_ab ab;          /* A/B view: every process's samples, each scan */
    enum hsw_ab_key ab_key;    /* A/B view: what makes processes one program */
    unsigned ab_window;        /* A/B view: index in top_ab_windows */
    int ab_scroll;             /* A/B view: first line shown */
    double last_scan;          /* Unix time of the last scan */
    bool latency_columns;      /* list: P50 P99 P99.9 MAXLAT shown ('L', or sorted by one) */
    int detail_histogram;      /* detail: 0 size classes, 1 alloc latency, 2 free latency ('l') */
};

struct top_screen {
    void (*draw)(struct top_state *state);
    /* Returns TOP_IGNORED when the key is not this screen's. */
    int (*key)(struct top_state *state, int key);
};

/* screen_ab.c: the windows the A/B view cycles through, in seconds. */
#define TOP_AB_WINDOWS 4
#define TOP_AB_DEFAULT_WINDOW 1 /* 60 s */
extern const double top_ab_windows[TOP_AB_WINDOWS];

extern const struct top_screen top_screen_list;
extern const struct top_screen top_screen_detail;
extern const struct top_screen top_screen_ab;
extern const struct top_screen top_screen_help;

/* cmd_top.c: whether a process passes -p and the filter. */
bool top_wanted(const struct top_state *state, const struct hsw_proc *proc,
                bool filtered);
/* cmd_top.c: the header line (totals) on line 0 and the status line at
 * the bottom, shared by the screens. */
void top_draw_header(const struct top_state *state);
void top_draw_status(const struct top_state *state, const char *keys);
/* cmd_top.c: the selected process, or NULL. */
const struct hsw_proc *top_selected(const struct top_state *state);

/* dashboard/screen_sites.c: the detail view's sites pane ('s'), drawn
 * from line y down in place of the size classes when shown; its keys
 * (TOP_IGNORED when not its own); leaving the detail view stops reading. */
bool top_sites_shown(void);
void top_sites_draw(struct top_state *state, const struct hsw_proc *proc, int y);
int top_sites_key(struct top_state *state, int key);
void top_sites_leave(void);

/* dashboard/top_keys.c: a key every screen shares, and a key while the
 * filter is typed; each returns an enum top_result. */
int top_common_key(struct top_state *state, int key);
int top_filter_key(struct top_state *state, int key);

#endif
