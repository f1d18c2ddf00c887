/* heapswitch ab's SVG chart: one group of bars per metric, one bar per
 * backend (median) with a min-max whisker; above each bar the median, and
 * for the other backends the ratio to the first with its interval and the
 * verdict (timed metrics) or the plain ratio (counted ones). The legend
 * says which runs each group comes from. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "dashboard/ab.h"
#include "dashboard/command.h"

/* The groups of bars of the chart. */
static const enum ab_metric charted[] = {AB_WALL, AB_CPU, AB_MAX_RSS, AB_ALLOCS};

static const char *const colors[AB_MAX_BACKENDS] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                                    "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};

enum { BAR = 64, GAP = 14, GROUP_GAP = 44, PLOT_TOP = 84, PLOT_HEIGHT = 220, LEFT = 30 };

static void xml_text(FILE *out, const char *text)
{
    for (const unsigned char *at = (const unsigned char *)text; *at != '\0'; at++) {
        switch (*at) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            /* Control bytes are not allowed in XML 1.0. */
            fputc(*at < 0x20 ? ' ' : *at, out);
        }
    }
}

static void command_text(FILE *out, const struct ab *ab)
{
    for (char **word = ab->command; *word != NULL; word++) {
        fputc(' ', out);
        xml_text(out, *word);
    }
}

/* One backend's bar, whisker and labels in a group. */
static void bar(FILE *out, const struct ab *ab, unsigned b, enum ab_metric m, double x,
                double top)
{
    const struct ab_backend *backend = &ab->backends[b];
    const struct ab_summary *s = &backend->summary[m];
    const struct hsw_comparison *c = &backend->comparison[m];
    double baseline = PLOT_TOP + PLOT_HEIGHT, center = x + BAR / 2.0, scale = PLOT_HEIGHT - 40;
    char text[64], verdict[96];

    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", center, baseline + 16);
    xml_text(out, backend->name);
    fprintf(out, "</text>\n");
    if (s->n == 0) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#aa0000\">"
                     "failed</text>\n", center, baseline - 6);
        return;
    }
    double h = s->median / top * scale;
    double y_min = baseline - s->min / top * scale, y_max = baseline - s->max / top * scale;
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>",
            x, baseline - h, BAR, h, colors[b]);
    xml_text(out, backend->name);
    fprintf(out, " %s (%s runs): median %s", ab_metrics[m].title,
            ab_kind_name(ab_metrics[m].source), ab_format_value(text, sizeof text, m, s->median));
    fprintf(out, ", min %s", ab_format_value(text, sizeof text, m, s->min));
    fprintf(out, ", max %s", ab_format_value(text, sizeof text, m, s->max));
    if (b > 0 && ab_metric_compared(m)) {
        ab_verdict_text(verdict, sizeof verdict, ab, b, m);
        fprintf(out, "; %.3fx [%.3f, %.3f] ", c->ratio, c->ratio_low, c->ratio_high);
        xml_text(out, verdict);
    }
    fprintf(out, "</title></rect>\n");
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n"
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n"
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n",
            center, y_min, center, y_max, center - 8, y_min, center + 8, y_min, center - 8,
            y_max, center + 8, y_max);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", center,
            y_max - 32, ab_format_value(text, sizeof text, m, s->median));
    if (b == 0)
        return;
    if (ab_metric_compared(m)) {
        if (!isnan(c->ratio))
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555555\" "
                         "class=\"ratio\">%.2fx [%.2f, %.2f]</text>\n",
                    center, y_max - 19, c->ratio, c->ratio_low, c->ratio_high);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555555\" "
                     "class=\"verdict\" font-size=\"10\">", center, y_max - 6);
        ab_verdict_text(verdict, sizeof verdict, ab, b, m);
        xml_text(out, verdict);
        fprintf(out, "</text>\n");
    } else if (!isnan(backend->ratio[m])) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555555\" "
                     "class=\"ratio\">%.2fx</text>\n", center, y_max - 19, backend->ratio[m]);
    }
}

int ab_write_svg(const struct ab *ab, FILE *out, const char *path)
{
    const unsigned groups = sizeof charted / sizeof charted[0];
    double group_width = ab->backend_count * (BAR + GAP) - GAP;
    double width = LEFT * 2 + groups * group_width + (groups - 1) * GROUP_GAP;
    double height = PLOT_TOP + PLOT_HEIGHT + 100;
    int result;

    if (width < 560)
        width = 560;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                 "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
            width, height, width, height);
    fprintf(out, "<title>heapswitch ab:");
    command_text(out, ab);
    fprintf(out, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
    fprintf(out, "<text x=\"%d\" y=\"22\" font-size=\"14\" font-weight=\"bold\">heapswitch ab:",
            LEFT);
    command_text(out, ab);
    fprintf(out, "</text>\n<text x=\"%d\" y=\"40\" fill=\"#555555\">median, whiskers min-max; "
                 "ratio to ", LEFT);
    xml_text(out, ab->backends[0].name);
    fprintf(out, " with its %.0f%% interval and verdict (no difference under %.0f%%)</text>\n",
            ab->compare.confidence * 100, ab->compare.min_effect * 100);
    fprintf(out, "<text x=\"%d\" y=\"56\" fill=\"#555555\">%lu timed runs per backend (wall, "
                 "CPU, RSS: counting off); %lu counted (allocations: counting on)</text>\n",
            LEFT, ab->timed_rounds, ab->counted_runs);
    for (unsigned g = 0; g < groups; g++) {
        enum ab_metric m = charted[g];
        double x0 = LEFT + g * (group_width + GROUP_GAP), top = 0;
        double baseline = PLOT_TOP + PLOT_HEIGHT;

        bool estimated = false;

        for (unsigned b = 0; b < ab->backend_count; b++) {
            if (ab->backends[b].summary[m].n > 0 && ab->backends[b].summary[m].max > top)
                top = ab->backends[b].summary[m].max;
            estimated = estimated || ab->backends[b].summary[m].estimated;
        }
        if (top <= 0)
            top = 1;
        fprintf(out, "<g class=\"metric\" id=\"%s\">\n", ab_metrics[m].key);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n",
                x0 - 4, baseline, x0 + group_width + 4, baseline);
        for (unsigned b = 0; b < ab->backend_count; b++)
            bar(out, ab, b, m, x0 + b * (BAR + GAP), top);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">"
                     "%s</text>\n", x0 + group_width / 2, baseline + 36, ab_metrics[m].title);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555555\">"
                     "(%s runs%s)</text>\n</g>\n", x0 + group_width / 2, baseline + 52,
                ab_kind_name(ab_metrics[m].source), estimated ? ", estimated" : "");
    }
    fprintf(out, "</svg>\n");
    result = ferror(out) ? -1 : 0;
    if (fclose(out) != 0)
        result = -1;
    if (result != 0)
        hsw_error("ab", "cannot write %s", path);
    return result;
}
