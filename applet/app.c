/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The GtkApplication: command line (docs/API.md section 7), window bookkeeping for the
 * input gate, and the way from the PIN to a session and out again.
 */
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <gtk/gtk.h>

#include "ll_api_client.h"
#include "ll_appconf.h"
#include "ll_build.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_ui.h"
#include "ll_util.h"
#include "applet.h"

#define APPLET_HELP_DESCRIPTION                                               \
	"Without --pin the applet asks for the PIN your technician reads "    \
	"out.\n"                                                              \
	"Nothing is shared until you allow it in the permission window.\n"    \
	"\n"                                                                  \
	"Exit status:\n"                                                      \
	"  0  the session ended (by you or by the technician)\n"              \
	"  1  internal failure\n"                                             \
	"  2  bad command line\n"                                             \
	"  3  the support server could not be reached or refused the PIN\n"   \
	"  4  the connection was lost during the session\n"                   \
	"  5  the support configuration was refused (altered, not trusted, "  \
	"or another server asked for)\n"

struct ll_applet {
	GtkApplication *app;
	struct ll_input_gate *gate;
	struct ll_applet_session *session;
	struct ll_pin_window *pin_win;
	struct ll_session_bar *bar; /* while there is one (not owned) */
	struct ll_ended_window *ended_win;
	int ended_code;     /* the exit code once ended_win closes */
	bool signalled;     /* asked to stop: no window waits for a person */
	GPtrArray *windows; /* tracked toplevels (not owned) */
	char *relay_url;
	char *ca_file;
	char *pin;    /* from --pin or a lifeline: link; wiped once used */
	char *launch; /* the link's launch token (secret), or NULL */
	/* A channel credential (secret): from --channel or the signed
	 * configuration; wiped once used. */
	char *channel;
	struct ll_applet_channel *chan;
	char *monitor;
	/* What the signed configuration binds us to (appconf.c); *_pem
	 * and spki_pin NULL without one.  org also from a link. */
	char *ca_pem;
	char *spki_pin;
	char *relay_hosts;   /* the configuration's, or NULL */
	char *applet_config; /* its signed text (secret), or NULL */
	char *org;
	/* Who helps, in the words of the redeem's answer (org display
	 * name): what "Session ended" names; NULL before. */
	char *org_name;
	char *test_etc_dir;         /* test builds: instead of /etc/lifeline */
	int test_consent_timeout_s; /* test builds: shorter consent wait */
	int test_consent_hold_s;    /* test builds: shorter hold-back */
	int exit_code;
	bool quitting;
	bool started; /* the first command line was taken */
	guint sig_term, sig_int;
};

/* ---- plain words ---- */

/* The brand's words (branding.ini [capabilities], docs/API.md section 13). */
const char *ll_applet_cap_words(uint32_t cap)
{
	const char *w = ll_brand_cap_words(ll_ui_brand(), ll_cap_name(cap));

	return w != NULL ? w : "Something this applet does not know";
}

char *ll_applet_caps_sentence(uint32_t caps, const char *none)
{
	GString *s = g_string_new(NULL);
	uint32_t bit;

	for (bit = 1; bit != 0 && bit <= LL_CAP_ALL; bit <<= 1) {
		if (!(caps & bit))
			continue;
		if (s->len > 0)
			g_string_append(s, ", ");
		g_string_append(s, ll_applet_cap_words(bit));
	}
	if (s->len == 0)
		g_string_append(s, none);
	return g_string_free(s, FALSE);
}

char *ll_applet_title(const char *what)
{
	/* U+2013 EN DASH between product and window, as docs/API.md section 8 names it. */
	return g_strdup_printf("%s \u2013 %s", ll_ui_brand()->product, what);
}

void ll_applet_who(const char *name, const char *org, bool sentence_start,
		   const char **name_out, const char **org_out)
{
	if (name != NULL && name[0] != '\0')
		*name_out = name;
	else
		*name_out = sentence_start ? "A technician" : "a technician";
	*org_out = org != NULL && org[0] != '\0' ? org : "your support team";
}

struct ll_input_gate *ll_applet_gate(struct ll_applet *a)
{
	return a->gate;
}

/* ---- window tracking for the input gate ---- */

static void update_rect(struct ll_applet *a, GtkWidget *w)
{
	GdkWindow *gw = gtk_widget_get_window(w);
	GdkRectangle r;
	int scale;

	if (gw == NULL || !gtk_widget_get_mapped(w)) {
		ll_input_gate_set_window(a->gate, w, 0, 0, 0, 0, false);
		return;
	}
	/* Root coordinates, decorations included, in device pixels. */
	gdk_window_get_frame_extents(gw, &r);
	scale = gdk_window_get_scale_factor(gw);
	ll_input_gate_set_window(a->gate, w, r.x * scale, r.y * scale,
				 r.width * scale, r.height * scale, true);
}

static gboolean on_configure(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	update_rect(data, w);
	return FALSE;
}

static gboolean on_map_event(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	update_rect(data, w);
	return FALSE;
}

static gboolean on_unmap_event(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	struct ll_applet *a = data;

	ll_input_gate_set_window(a->gate, w, 0, 0, 0, 0, false);
	return FALSE;
}

static void update_focus(struct ll_applet *a)
{
	bool any = false;
	guint i;

	for (i = 0; i < a->windows->len; i++)
		if (gtk_window_is_active(g_ptr_array_index(a->windows, i)))
			any = true;
	ll_input_gate_set_applet_focus(a->gate, any);
}

static void on_active(GObject *obj, GParamSpec *ps, gpointer data)
{
	update_focus(data);
}

static void on_tracked_destroy(GtkWidget *w, gpointer data)
{
	struct ll_applet *a = data;

	ll_input_gate_remove_window(a->gate, w);
	g_ptr_array_remove(a->windows, w);
	update_focus(a);
}

void ll_applet_track_window(struct ll_applet *a, GtkWindow *w)
{
	GtkWidget *wid = GTK_WIDGET(w);

	gtk_window_set_application(w, a->app);
	/* The installed icon when there is one; else the brand's own, which
	 * ll_ui_init() made every window's default. */
	if (gtk_icon_theme_has_icon(gtk_icon_theme_get_default(),
				    "lifeline-applet"))
		gtk_window_set_icon_name(w, "lifeline-applet");
	g_ptr_array_add(a->windows, w);
	g_signal_connect(w, "configure-event", G_CALLBACK(on_configure), a);
	g_signal_connect(w, "map-event", G_CALLBACK(on_map_event), a);
	g_signal_connect(w, "unmap-event", G_CALLBACK(on_unmap_event), a);
	g_signal_connect(w, "notify::is-active", G_CALLBACK(on_active), a);
	g_signal_connect(w, "destroy", G_CALLBACK(on_tracked_destroy), a);
	gtk_widget_add_events(wid, GDK_STRUCTURE_MASK);
}

/* ---- from PIN to session and out ---- */

void ll_applet_quit(struct ll_applet *a, int exit_code)
{
	if (a->quitting)
		return;
	a->quitting = true;
	a->exit_code = exit_code;
	if (a->pin_win != NULL)
		LL_FREE_AND_NULL(ll_pin_window_free, a->pin_win);
	LL_FREE_AND_NULL(ll_ended_window_free, a->ended_win);
	g_application_release(G_APPLICATION(a->app));
	g_application_quit(G_APPLICATION(a->app));
}

static void on_ended_close(void *user)
{
	struct ll_applet *a = user;

	ll_applet_quit(a, a->ended_code);
}

void ll_applet_set_org_name(struct ll_applet *a, const char *name)
{
	g_free(a->org_name);
	a->org_name = g_strdup(name);
}

const char *ll_applet_org_name(const struct ll_applet *a)
{
	if (a->org_name != NULL && a->org_name[0] != '\0')
		return a->org_name;
	return ll_ui_brand()->org;
}

void ll_applet_ended(struct ll_applet *a, enum ll_applet_end end)
{
	char *words = ll_applet_end_words(a, end);

	/* One line for whoever started us (scripts, a terminal). */
	fprintf(stderr, "lifeline-applet: %s\n", words);
	g_free(words);
	if (a->quitting || a->ended_win != NULL)
		return;
	/* The windows of the session are gone by now: nothing is left
	 * that could share or control anything. */
	if (a->pin_win != NULL)
		LL_FREE_AND_NULL(ll_pin_window_free, a->pin_win);
	a->ended_code = ll_applet_end_exit_code(end);
	if (!ll_applet_end_shown(end) || a->signalled) {
		ll_applet_quit(a, a->ended_code);
		return;
	}
	a->ended_win = ll_ended_window_new(a, end, on_ended_close, a);
}

static void on_session_done(enum ll_applet_end end, void *user)
{
	ll_applet_ended(user, end);
}

static void on_redeem_error(enum ll_applet_end end, void *user)
{
	struct ll_applet *a = user;
	char *words = ll_applet_end_words(a, end);

	ll_info("the PIN window says (%s): %s", ll_applet_end_tag(end), words);
	if (a->pin_win != NULL) {
		ll_pin_window_set_busy(a->pin_win, false, NULL);
		ll_pin_window_show_error(a->pin_win, words);
	}
	g_free(words);
}

/* The PIN window hands the PIN over: connect (the window stays while we
 * redeem, so an error can be shown there). */
static void on_pin(const char *pin, void *user)
{
	struct ll_applet *a = user;

	ll_pin_window_set_busy(a->pin_win, true, "Connecting\u2026");
	ll_applet_session_start(a->session, pin, on_redeem_error);
}

static gboolean on_signal(gpointer data)
{
	struct ll_applet *a = data;

	fprintf(stderr, "lifeline-applet: stopping on a signal\n");
	a->signalled = true;
	if (a->ended_win != NULL)
		ll_applet_quit(a, a->ended_code);
	else if (a->session != NULL)
		ll_applet_session_end_by_user(a->session);
	else
		ll_applet_quit(a, LL_APPLET_EXIT_OK);
	return G_SOURCE_CONTINUE;
}

/* This process's own command line: the applet's windows and session. */
static void start(GApplication *app, struct ll_applet *a)
{
	struct ll_applet_session_opts so = {
		.relay = { .url = a->relay_url,
			   .ca_file = a->ca_file,
			   .ca_pem = a->ca_pem,
			   .spki_pin = a->spki_pin,
			   .allowed_hosts = a->relay_hosts },
		.applet_config = a->applet_config,
		.org = a->org,
		.launch = a->launch,
		.monitor = a->monitor,
		.consent_timeout_s = a->test_consent_timeout_s,
		.consent_hold_s = a->test_consent_hold_s,
	};

	if (a->started)
		return;
	a->started = true;
	/*
	 * WM_CLASS "lifeline-applet", "lifeline-applet" (docs/API.md), not GDK's
	 * capitalised default.  Set once GDK is up (it would replace an
	 * earlier value) and before the first window.
	 */
	gdk_set_program_class("lifeline-applet");
	/* The brand's look and icon, before the first window. */
	ll_ui_init();
	/* Capture the display GTK opened (it honours --display). */
	so.display = gdk_display_get_name(gdk_display_get_default());
	/* Alive until ll_applet_quit(), whatever windows come and go. */
	g_application_hold(G_APPLICATION(app));
	a->session = ll_applet_session_new(a, &so, on_session_done, a);
	if (a->channel != NULL) {
		a->chan = ll_applet_channel_new(a, a->session, &so,
						a->channel);
		ll_wipe(a->channel, strlen(a->channel));
		return;
	}
	if (a->pin != NULL) {
		ll_applet_session_start(a->session, a->pin, NULL);
		ll_wipe(a->pin, strlen(a->pin));
		return;
	}
	a->pin_win = ll_pin_window_new(a, on_pin, a);
}

void ll_applet_set_session_bar(struct ll_applet *a, struct ll_session_bar *b)
{
	a->bar = b;
}

/* What the person should be looking at: the newest window still shown
 * (a permission request above the bar above the PIN window). */
static GtkWindow *current_window(struct ll_applet *a)
{
	guint i;

	for (i = a->windows->len; i > 0; i--) {
		GtkWidget *w = g_ptr_array_index(a->windows, i - 1);

		if (gtk_widget_get_visible(w))
			return GTK_WINDOW(w);
	}
	return NULL;
}

/*
 * Another start of the applet (a second click, a lifeline: link) came
 * here instead of opening a window of its own (docs/API.md section 7).
 * It raises what is on the screen and, when it brought a PIN, says in
 * plain words that it was not used.  Nothing here answers, grants or
 * starts anything: a permission request stays the person's to answer,
 * and its PIN or link is never applied, during a session or before one.
 */
static void second_start(struct ll_applet *a, bool with_pin)
{
	const char *product = ll_ui_brand()->product;
	GtkWindow *w = current_window(a);
	char *t = NULL;

	ll_info("another start of the applet: %s; its %s not used",
		w != NULL ? "the running window is raised"
			  : "no window to raise",
		with_pin ? "PIN is" : "arguments are");
	if (a->bar != NULL) {
		t = g_strdup_printf("%s is already running a session. "
				    "End it before you start another.",
				    product);
		ll_session_bar_notice(a->bar, t);
	} else if (a->pin_win != NULL && with_pin) {
		t = g_strdup_printf("%s is already open. Type the PIN your "
				    "technician gave you here.",
				    product);
		ll_pin_window_show_error(a->pin_win, t);
		ll_info("the PIN window says: %s", t);
	}
	g_free(t);
	/* The newest window only: never the bar above a permission request
	 * that waits for an answer. */
	if (w != NULL)
		gtk_window_present(w);
}

/*
 * Every start of the applet lands here in the first one (GApplication
 * hands a later start's command line over on the session bus).  What a
 * later start forwards is only whether it came with a PIN: its options
 * were parsed, checked and wiped in its own process (parse_args), and no
 * secret crosses the bus.
 */
static int on_command_line(GApplication *app, GApplicationCommandLine *cl,
			   gpointer data)
{
	struct ll_applet *a = data;
	int argc = 0;
	char **argv = g_application_command_line_get_arguments(cl, &argc);
	bool with_pin = argc > 1 && g_strcmp0(argv[1], "with-pin") == 0;

	g_strfreev(argv);
	if (!g_application_command_line_get_is_remote(cl))
		start(app, a);
	else if (!a->quitting)
		second_start(a, with_pin);
	return LL_APPLET_EXIT_OK;
}

/* Activated over D-Bus (org.freedesktop.Application): as a second start
 * without arguments. */
static void on_activate(GApplication *app, gpointer data)
{
	struct ll_applet *a = data;

	if (a->started && !a->quitting)
		second_start(a, false);
}

/* Called by the session once redeem succeeded. */
void ll_applet_pin_done(struct ll_applet *a)
{
	if (a->pin_win != NULL)
		LL_FREE_AND_NULL(ll_pin_window_free, a->pin_win);
}

/* The PIN window was closed before any session started. */
void ll_applet_pin_cancelled(struct ll_applet *a)
{
	a->pin_win = NULL;
	if (a->session != NULL)
		ll_applet_session_end_by_user(a->session);
	else
		ll_applet_quit(a, LL_APPLET_EXIT_OK);
}

/* ---- command line ---- */

static int usage(const char *message)
{
	fprintf(stderr, "lifeline-applet: %s\nTry 'lifeline-applet --help'.\n",
		message);
	return LL_APPLET_EXIT_USAGE;
}

/*
 * /proc/PID/cmdline shows the bytes of argv to every local user for as
 * long as we run: once GOption has copied the PIN, overwrite it there.
 * args are argv's pointers from before the parse (which reorders argv).
 */
static void wipe_pin_args(char **args, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if ((strcmp(args[i], "--pin") == 0 ||
		     strcmp(args[i], "--channel") == 0) &&
		    i + 1 < n)
			ll_wipe(args[i + 1], strlen(args[i + 1]));
		else if (strncmp(args[i], "--pin=", 6) == 0)
			ll_wipe(args[i] + 6, strlen(args[i] + 6));
		else if (strncmp(args[i], "--channel=", 10) == 0)
			ll_wipe(args[i] + 10, strlen(args[i] + 10));
		else if (g_str_has_prefix(args[i], "lifeline:"))
			ll_wipe(args[i], strlen(args[i])); /* holds the PIN */
	}
}

/*
 * A lifeline: link (docs/API.md section 7): `lifeline:pin?code=PIN`
 * with an optional `&org=ORG` and `&launch=TOKEN` (the PIN page's, for a
 * website-locked PIN), nothing else.  It never names a relay:
 * the applet connects only where its configuration (or the person's own
 * --relay) says.  NULL, or a sentence for usage().
 */
static const char *parse_link(struct ll_applet *a, const char *uri)
{
	const char *q = uri + strlen("lifeline:");
	char **params = NULL, *org = NULL;
	const char *bad = NULL;
	int i;

	if (!g_str_has_prefix(q, "pin?"))
		return "a lifeline: link must be lifeline:pin?code=PIN";
	params = g_strsplit(q + 4, "&", 4);
	for (i = 0; params[i] != NULL && bad == NULL; i++) {
		const char *p = params[i];

		if (g_str_has_prefix(p, "code=") && a->pin == NULL)
			a->pin = g_strdup(p + 5);
		else if (g_str_has_prefix(p, "org=") && org == NULL)
			org = g_uri_unescape_string(p + 4, "/");
		else if (g_str_has_prefix(p, "launch=") && a->launch == NULL)
			a->launch = g_strdup(p + 7);
		else
			bad = "a lifeline: link may carry code=, org= and "
			      "launch= only, once each";
	}
	if (bad == NULL && (a->pin == NULL || !ll_pin_well_formed(a->pin)))
		bad = "the link's PIN must be 6 to 10 digits";
	if (bad == NULL && a->launch != NULL &&
	    (strlen(a->launch) != LL_APPLET_LAUNCH_MAX ||
	     strspn(a->launch, "0123456789abcdef") != LL_APPLET_LAUNCH_MAX))
		bad = "the link's launch token is not one";
	if (bad == NULL && params[0] != NULL && org != NULL &&
	    (org[0] == '\0' || strlen(org) > 128 ||
	     strpbrk(org, "\r\n\t") != NULL))
		bad = "the link's org is not an org name";
	if (bad == NULL && org != NULL) {
		a->org = org;
		org = NULL;
	}
	g_free(org);
	if (params != NULL) {
		for (i = 0; params[i] != NULL; i++)
			ll_wipe(params[i], strlen(params[i]));
		g_strfreev(params);
	}
	return bad;
}

/*
 * A portable applet downloaded from the PIN page carries the PIN, org
 * and, for a website-locked PIN, the page's launch token at its end:
 * taken as a lifeline: link's (docs/API.md, "The PIN page").
 * Returns -1 to go on, or an exit code after one line on stderr.
 */
static int pin_from_download(struct ll_applet *a)
{
	char *pin = NULL, *org = NULL, *launch = NULL, *why = NULL;

	if (ll_applet_pin_trailer_load(&pin, &org, &launch, &why) != LL_OK) {
		fprintf(stderr, "lifeline-applet: %s\n", why);
		g_free(why);
		return LL_APPLET_EXIT_CONFIG;
	}
	if (pin != NULL) {
		a->pin = g_strdup(pin);
		ll_secret_free(pin);
		g_free(a->org);
		a->org = org;
		if (launch != NULL) {
			ll_secret_free(a->launch);
			a->launch = g_strdup(launch);
			ll_secret_free(launch);
		}
		ll_info("the PIN this program was downloaded with, for org "
			"'%s'%s",
			a->org,
			a->launch != NULL ? " (with its launch token)" : "");
	}
	return -1;
}

/* ":PORT" of an https:// URL the configuration format accepts, or "". */
static const char *url_port(const char *url)
{
	const char *h = url + strlen("https://");
	const char *p = *h == '[' ? strchr(h, ']') : h;

	p = p != NULL ? strchr(p, ':') : NULL;
	return p != NULL ? p : "";
}

/*
 * The signed configuration, then what it binds: the relay (a --relay
 * to a host not in its relay_hosts, or to another port, is refused,
 * never preferred; one to another listed host is taken, with the
 * configuration's pin and root), the hosts the client may contact at
 * all, the org (a link for another org is refused), the channel, and
 * the text every redeem sends as its proof.  Returns -1 to go on, or an
 * exit code after one line on stderr.
 */
static int apply_config(struct ll_applet *a, const char *file_arg)
{
	struct ll_appconf c = { 0 };
	bool found = false;
	char *why = NULL, *host = NULL, *text = NULL;
	int r = LL_APPLET_EXIT_CONFIG;

	if (ll_applet_conf_load(file_arg, a->test_etc_dir,
				a->test_etc_dir != NULL, &c, &text, &found,
				&why) != LL_OK) {
		fprintf(stderr, "lifeline-applet: %s\n", why);
		goto out;
	}
	if (!found) {
		r = -1;
		goto out;
	}
	/* (a trailing '/' is another spelling of the same URL) */
	if (a->relay_url != NULL && g_str_has_suffix(a->relay_url, "/"))
		a->relay_url[strlen(a->relay_url) - 1] = '\0';
	if (a->relay_url != NULL &&
	    ((host = ll_appconf_url_host(a->relay_url)) == NULL ||
	     !ll_appconf_host_listed(&c, host) ||
	     strcmp(url_port(a->relay_url), url_port(c.relay_url)) != 0)) {
		fprintf(stderr,
			"lifeline-applet: this applet is configured for the "
			"support server %s (%s) and connects to no other "
			"(refusing --relay %s)\n",
			c.relay_url, c.relay_hosts, a->relay_url);
		goto out;
	}
	if (a->org != NULL && strcmp(a->org, c.org) != 0) {
		fprintf(stderr,
			"lifeline-applet: this link is for the organisation "
			"'%s', but this applet belongs to '%s'\n",
			a->org, c.org);
		goto out;
	}
	if (a->relay_url == NULL)
		a->relay_url = g_strdup(c.relay_url);
	a->spki_pin = g_strdup(c.relay_pin);
	a->relay_hosts = g_strdup(c.relay_hosts);
	a->applet_config = text;
	text = NULL;
	a->ca_pem = ll_appconf_ca_pem_new(&c);
	g_free(a->org);
	a->org = g_strdup(c.org);
	/* The configuration's channel, unless the person came with a PIN
	 * (a link, --pin) or a channel of their own. */
	if (a->channel == NULL && a->pin == NULL && c.channel != NULL)
		a->channel = g_strdup(c.channel);
	ll_info("configured for %s (hosts %s), org '%s' (signed "
		"configuration of %lld)",
		a->relay_url, c.relay_hosts, c.org, (long long)c.created);
	r = -1;
out:
	if (text != NULL)
		ll_secret_free(text);
	g_free(why);
	free(host);
	ll_appconf_clear(&c);
	return r;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(struct ll_applet *a, int *argc, char ***argv)
{
	char **rest = NULL;
	GError *err = NULL;
	GOptionEntry entries[] = {
		{ "relay", 0, 0, G_OPTION_ARG_STRING, &a->relay_url,
		  "The support server (https://HOST[:PORT])", "URL" },
		{ "ca", 0, 0, G_OPTION_ARG_FILENAME, &a->ca_file,
		  "An extra certificate authority to trust (PEM)", "FILE" },
		{ "pin", 0, 0, G_OPTION_ARG_STRING, &a->pin,
		  "The PIN (6 to 10 digits) your technician gave you", "PIN" },
		{ "channel", 0, 0, G_OPTION_ARG_STRING, &a->channel,
		  "Wait for a technician in a support channel (a "
		  "shortcut's credential)",
		  "TOKEN" },
		{ "monitor", 0, 0, G_OPTION_ARG_STRING, &a->monitor,
		  "Share only this monitor (default: all)", "NAME" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest,
		  NULL, "[FILE.lifeline | lifeline:URI]" },
#if LL_TEST_HOOKS
		{ "test-etc-dir", 0, G_OPTION_FLAG_HIDDEN,
		  G_OPTION_ARG_FILENAME, &a->test_etc_dir, NULL, NULL },
		{ "test-consent-timeout", 0, G_OPTION_FLAG_HIDDEN,
		  G_OPTION_ARG_INT, &a->test_consent_timeout_s, NULL, NULL },
		{ "test-consent-hold", 0, G_OPTION_FLAG_HIDDEN,
		  G_OPTION_ARG_INT, &a->test_consent_hold_s, NULL, NULL },
#endif
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	const char *file_arg = NULL, *bad;
	char *why = NULL;
	int i;
	GOptionContext *ctx;
	char **args = g_new(char *, (gsize)*argc + 1);
	int nargs = *argc;
	int r = -1;

	memcpy(args, *argv, sizeof(char *) * (size_t)nargs);
	ctx = g_option_context_new(NULL);
	g_option_context_set_summary(
		ctx, "Let a technician see and, if you allow it, control this "
		     "screen.");
	g_option_context_set_description(ctx, APPLET_HELP_DESCRIPTION);
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_add_group(ctx, gtk_get_option_group(FALSE));
	if (!g_option_context_parse(ctx, argc, argv, &err)) {
		r = usage(err->message);
		goto out;
	}
	if (a->channel != NULL &&
	    !ll_channel_credential_well_formed(a->channel)) {
		r = usage(
			"--channel must be a channel credential (llch1_...)");
		goto out;
	}
	if (a->channel != NULL && a->pin != NULL) {
		r = usage("give --pin or --channel, not both");
		goto out;
	}
	if (rest != NULL && rest[0] != NULL && rest[1] != NULL) {
		r = usage("give one FILE.lifeline or one lifeline: link");
		goto out;
	}
	if (a->pin != NULL && !ll_pin_well_formed(a->pin)) {
		r = usage("--pin must be 6 to 10 digits");
		goto out;
	}
	if (rest != NULL && rest[0] != NULL &&
	    g_str_has_prefix(rest[0], "lifeline:")) {
		if (a->pin != NULL) {
			r = usage("give --pin or a lifeline: link, not both");
			goto out;
		}
		if ((bad = parse_link(a, rest[0])) != NULL) {
			r = usage(bad);
			goto out;
		}
	} else if (rest != NULL && rest[0] != NULL) {
		file_arg = rest[0];
	}
	/* Before any window: a PIN typed for nothing is worse than this. */
	if (a->ca_file != NULL && !ll_ca_file_usable(a->ca_file, &why)) {
		r = usage(why);
		g_free(why);
		goto out;
	}
	if (a->relay_url != NULL &&
	    !g_str_has_prefix(a->relay_url, "https://")) {
		r = usage("--relay must be an https:// URL");
		goto out;
	}
	if (a->pin == NULL && a->channel == NULL && file_arg == NULL &&
	    (r = pin_from_download(a)) >= 0)
		goto out;
	if ((r = apply_config(a, file_arg)) >= 0)
		goto out;
	if (a->relay_url == NULL) {
		r = usage("no support server: give --relay URL, or install "
			  "your organisation's support configuration");
		goto out;
	}
out:
	/* Read: a->pin holds GOption's copy (wiped once used). */
	wipe_pin_args(args, nargs);
	g_free(args);
	g_clear_error(&err);
	/* GOption's copies of a lifeline: link hold its PIN too. */
	for (i = 0; rest != NULL && rest[i] != NULL; i++)
		if (g_str_has_prefix(rest[i], "lifeline:"))
			ll_wipe(rest[i], strlen(rest[i]));
	g_strfreev(rest);
	g_option_context_free(ctx);
	return r;
}

/*
 * One applet per X display and user: the D-Bus name of the GApplication
 * is org.lifeline.Applet plus the display ("org.lifeline.Applet.x_0" on
 * ":0"), so that a user logged in twice (a local and a remote desktop,
 * one session bus) gets an applet on each.  g_free.
 */
static char *app_id(void)
{
	const char *d = gdk_get_display_arg_name();
	GString *id = g_string_new("org.lifeline.Applet.x");
	const char *p;

	if (d == NULL)
		d = g_getenv("DISPLAY");
	for (p = d != NULL ? d : ""; *p != '\0' && id->len < 200; p++)
		g_string_append_c(id, g_ascii_isalnum(*p) ? *p : '_');
	return g_string_free(id, FALSE);
}

int ll_applet_main(int argc, char **argv)
{
	struct ll_applet a = { 0 };
	char *run_argv[] = { argv[0], NULL, NULL };
	GError *err = NULL;
	bool remote;
	char *id;
	int r;

	g_set_prgname("lifeline-applet");
	ll_log_set_ident("lifeline-applet");
	if ((r = parse_args(&a, &argc, &argv)) >= 0)
		goto out;

	a.exit_code = LL_APPLET_EXIT_FAILURE;
	a.gate = ll_input_gate_new();
	a.windows = g_ptr_array_new();
	/*
	 * Unique: a second start hands over to the first and exits 0
	 * (on_command_line).  Without a session bus GApplication cannot
	 * tell and every start runs on its own, as before.
	 */
	id = app_id();
	a.app = gtk_application_new(id, G_APPLICATION_HANDLES_COMMAND_LINE);
	g_free(id);
	g_signal_connect(a.app, "command-line", G_CALLBACK(on_command_line),
			 &a);
	g_signal_connect(a.app, "activate", G_CALLBACK(on_activate), &a);
	a.sig_term = g_unix_signal_add(SIGTERM, on_signal, &a);
	a.sig_int = g_unix_signal_add(SIGINT, on_signal, &a);
	/* Options are parsed above: GApplication sees only whether this
	 * start came with a PIN (a word, never the PIN). */
	if (a.pin != NULL || a.channel != NULL)
		run_argv[1] = "with-pin";
	if (!g_application_register(G_APPLICATION(a.app), NULL, &err)) {
		fprintf(stderr, "lifeline-applet: %s\n", err->message);
		g_clear_error(&err);
	} else {
		remote = g_application_get_is_remote(G_APPLICATION(a.app));
		r = g_application_run(G_APPLICATION(a.app),
				      run_argv[1] != NULL ? 2 : 1, run_argv);
		if (remote) {
			/* One line for whoever started us (scripts, a
			 * terminal), as at every other way out. */
			fprintf(stderr,
				"lifeline-applet: already running on "
				"this display: brought to the front\n");
			a.exit_code = r; /* the first applet's answer: 0 */
		} else if (r != 0 && !a.quitting)
			a.exit_code = LL_APPLET_EXIT_FAILURE;
	}
	r = a.exit_code;

	g_source_remove(a.sig_term);
	g_source_remove(a.sig_int);
	/* Leaves a queue still waited in; joins the channel's worker. */
	LL_FREE_AND_NULL(ll_applet_channel_free, a.chan);
	/* Joins the RFB thread and waits for queued audit reports. */
	LL_FREE_AND_NULL(ll_applet_session_free, a.session);
	g_object_unref(a.app);
	g_ptr_array_free(a.windows, TRUE);
	ll_input_gate_free(a.gate);
out:
	ll_secret_free(a.pin);
	ll_secret_free(a.launch);
	ll_secret_free(a.channel);
	g_free(a.ca_pem);
	g_free(a.spki_pin);
	g_free(a.relay_hosts);
	if (a.applet_config != NULL)
		ll_secret_free(a.applet_config);
	g_free(a.org);
	g_free(a.org_name);
	g_free(a.test_etc_dir);
	g_free(a.relay_url);
	g_free(a.ca_file);
	g_free(a.monitor);
	return r;
}
