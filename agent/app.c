/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The GUI's GtkApplication: options, the shared state, login and logout.
 *
 *   lifeline-agent [--relay URL] [--ca FILE] [--profile DIR]
 *
 * --help lists them with --cli (main.c sends `--cli ...` to cli.c before
 * GTK starts); they are taken out of argv here, so GApplication's table
 * below serves the help text only.
 *
 * The token of a GUI login is kept in memory only; the profile remembers
 * the relay, user and org to fill the login form next time.
 */
#include <string.h>

#include "gui.h"
#include "ll_build.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_stream.h"
#include "ll_ui.h"
#include "ll_util.h"

struct ll_gui_conn *ll_gui_conn_copy(const struct ll_gui_conn *c)
{
	struct ll_gui_conn *n = g_new0(struct ll_gui_conn, 1);

	n->url = g_strdup(c->url);
	n->ca_file = g_strdup(c->ca_file);
	n->ca_pem = g_strdup(c->ca_pem);
	n->token = g_strdup(c->token);
	return n;
}

void ll_gui_conn_free(struct ll_gui_conn *c)
{
	if (c == NULL)
		return;
	g_free(c->url);
	g_free(c->ca_file);
	g_free(c->ca_pem);
	ll_secret_free(c->token);
	g_free(c);
}

/* The relay and its trust, for the API and for streams alike. */
static void conn_opts(const struct ll_gui_conn *c, struct ll_relay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = c->url;
	o->ca_file = c->ca_file;
	o->ca_pem = c->ca_pem;
}

struct ll_api_client *ll_gui_client_new(const struct ll_gui_conn *c,
					struct ll_client_error *e)
{
	struct ll_relay_opts o;
	struct ll_api_client *cl;

	conn_opts(c, &o);
	if ((cl = ll_api_client_new(&o, e)) == NULL)
		return NULL;
	if (c->token != NULL && ll_api_client_set_token(cl, c->token) != 0) {
		ll_client_error_set(e, LL_ERR_NOMEM, 0, "out of memory");
		ll_api_client_free(cl);
		return NULL;
	}
	return cl;
}

int ll_gui_stream_open(const struct ll_gui_conn *c, const char *ticket,
		       struct ll_stream **out, struct ll_client_error *e)
{
	struct ll_relay_opts o;

	conn_opts(c, &o);
	return ll_stream_open(&o, NULL, ticket, out, e);
}

void ll_gui_logged_in(struct ll_gui *g)
{
	char *err = NULL;

	/* remember where and who (not the token) */
	g_free(g->profile->relay);
	g->profile->relay = g_strdup(g->conn.url);
	g_free(g->profile->ca_file);
	g->profile->ca_file = g_strdup(g->conn.ca_file);
	if (ll_profile_save(g->profile, &err) != 0) {
		ll_warn("%s", err);
		g_free(err);
	}
	ll_info("login: logged in to %s", g->conn.url);
	ll_main_window_show_sessions(g);
	ll_main_window_refresh(g);
}

void ll_gui_logged_out(struct ll_gui *g)
{
	ll_secret_free(g->conn.token);
	g->conn.token = NULL;
	ll_main_window_show_login(g);
}

/* What --help says; parsed above, before GTK sees argv. */
static const GOptionEntry help_entries[] = {
	{ "relay", 0, 0, G_OPTION_ARG_STRING, NULL,
	  "The relay to log in to (https://HOST[:PORT]); default: the "
	  "profile's last one",
	  "URL" },
	{ "ca", 0, 0, G_OPTION_ARG_FILENAME, NULL,
	  "An extra trust anchor (PEM) for a relay whose certificate a "
	  "private CA signed",
	  "FILE" },
	{ "profile", 0, 0, G_OPTION_ARG_FILENAME, NULL,
	  "Where the agent keeps its settings and trusted relay "
	  "certificates (default ~/.config/lifeline-agent)",
	  "DIR" },
	{ "cli", 0, 0, G_OPTION_ARG_NONE, NULL,
	  "As the first option: the scriptable command line instead of "
	  "the window (lifeline-agent --cli --help)",
	  NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static void on_activate(GtkApplication *app, gpointer data)
{
	struct ll_gui *g = data;

	if (g->window == NULL) {
		/*
		 * WM_CLASS "lifeline-agent", "lifeline-agent" (docs/API.md
		 * section 8): set once GDK is up, which replaces an earlier
		 * value with its capitalised default, and before the first
		 * window.
		 */
		gdk_set_program_class("lifeline-agent");
		/* The brand's look and icon, before the first window. */
		ll_ui_init();
		g->window = ll_main_window_new(g);
		gtk_application_add_window(app, g->window);
	}
	gtk_window_present(g->window);
}

int ll_agent_gui_main(int argc, char **argv)
{
	struct ll_gui g;
	char *profile_dir = NULL, *err = NULL;
	GPtrArray *rest = g_ptr_array_new();
	int i, status;

	memset(&g, 0, sizeof(g));
	g.users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					g_free);
	/* our three options; the rest is GTK's */
	g_ptr_array_add(rest, argv[0]);
	for (i = 1; i < argc; i++) {
		const char *v = NULL;
		bool separate = false;

		if (g_str_has_prefix(argv[i], "--relay=") ||
		    g_str_has_prefix(argv[i], "--ca=") ||
		    g_str_has_prefix(argv[i], "--profile=")) {
			v = strchr(argv[i], '=') + 1;
		} else if (i + 1 < argc &&
			   (strcmp(argv[i], "--relay") == 0 ||
			    strcmp(argv[i], "--ca") == 0 ||
			    strcmp(argv[i], "--profile") == 0)) {
			v = argv[i + 1];
			separate = true;
		}
		if (v == NULL) {
			g_ptr_array_add(rest, argv[i]);
			continue;
		}
		if (g_str_has_prefix(argv[i], "--relay")) {
			g_free(g.conn.url);
			g.conn.url = g_strdup(v);
		} else if (g_str_has_prefix(argv[i], "--ca")) {
			g_free(g.conn.ca_file);
			g.conn.ca_file = g_canonicalize_filename(v, NULL);
		} else {
			profile_dir = (char *)v;
		}
		if (separate)
			i++;
	}
	g_ptr_array_add(rest, NULL);
	/* A wrong --ca fails here, before the login window. */
	if (g.conn.ca_file != NULL &&
	    !ll_ca_file_usable(g.conn.ca_file, &err)) {
		g_printerr("lifeline-agent: %s\n", err);
		g_free(err);
		g_free(g.conn.ca_file);
		g_free(g.conn.url);
		g_ptr_array_unref(rest);
		return 2;
	}
	if (ll_profile_open(profile_dir, &g.profile, &err) != 0) {
		g_printerr("lifeline-agent: %s\n", err);
		g_free(err);
		g_ptr_array_unref(rest);
		return 1;
	}
	if (g.conn.url == NULL)
		g.conn.url = g_strdup(g.profile->relay);
	if (g.conn.ca_file == NULL)
		g.conn.ca_file = g_strdup(g.profile->ca_file);
	/* WM_CLASS: the name here, the class in on_activate. */
	g_set_prgname("lifeline-agent");
	g.app = gtk_application_new("org.lifeline.Agent",
				    G_APPLICATION_NON_UNIQUE);
	g_application_add_main_option_entries(G_APPLICATION(g.app),
					      help_entries);
	g_signal_connect(g.app, "activate", G_CALLBACK(on_activate), &g);
	status = g_application_run(G_APPLICATION(g.app), (int)rest->len - 1,
				   (char **)rest->pdata);
	g_object_unref(g.app);
	g_ptr_array_unref(rest);
	ll_secret_free(g.conn.token);
	g_free(g.conn.url);
	g_free(g.conn.ca_file);
	g_free(g.conn.ca_pem);
	g_free(g.tech_name);
	g_free(g.tech_org);
	g_hash_table_unref(g.users);
	ll_profile_free(g.profile);
	return status;
}
