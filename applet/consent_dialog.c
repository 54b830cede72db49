/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT – Permission request" (docs/ARCHITECTURE.md,
 * Consent; docs/API.md section 8).
 *
 * Who asks (name and org as the relay verified them at redeem, never what
 * the technician's side claims in the stream, with the technician's
 * initial), one line per capability in plain words, _Allow and _Deny;
 * when view is asked together with more (control), Allow _all, _View
 * only and _Deny, so the user can let the technician watch without
 * handing over the mouse.  The focus starts on Deny, drawn with a ring
 * that is always visible, and there is no default button, so Enter or
 * Space typed by accident refuses.  No
 * answer in time is a refusal; the countdown is shown.  Closing the
 * window is a refusal.  "I did not ask for this" ends the session and
 * flags it.  While this window exists the session keeps the input gate
 * closed, so the technician's own input can never answer it.
 *
 * Only a fresh, deliberate answer counts (docs/ARCHITECTURE.md,
 * "Consent"):
 *   - the window is armed LL_APPLET_CONSENT_ARM_MS after it is mapped
 *     (browsers arm their security prompts the same way); until then the
 *     answers are greyed out and every key and button event is dropped;
 *   - a key answers only by a press AND a release that both came after
 *     arming: the press is held back and handed to GTK when its release
 *     arrives, so mnemonics (Alt+A) and Space/Enter on the focused button
 *     act on the release; a release without such a press is dropped;
 *   - a key that was down when the window was mapped or armed (held by
 *     anyone, repeating or not) is ignored until it has been released;
 *   - a mouse button answers only by a press after arming (GtkButton
 *     clicks on the release).
 * These rules sit in a GDK event handler in front of GTK's own, so no
 * widget of the dialog sees an event they drop.
 */
#include <gtk/gtk.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif

#include "ll_control.h"
#include "ll_ui.h"
#include "ll_util.h"
#include "applet.h"

#define KEYS 256 /* X keycodes */

/* The window's layout: the template consent_dialog.ui, under the brand's
 * header.  Everything the rules above depend on is set in
 * ll_consent_dialog_new, not in the template. */
#define LL_TYPE_APPLET_CONSENT_WINDOW (ll_applet_consent_window_get_type())
G_DECLARE_FINAL_TYPE(LlAppletConsentWindow, ll_applet_consent_window, LL,
		     APPLET_CONSENT_WINDOW, GtkWindow)

struct _LlAppletConsentWindow {
	GtkWindow parent;
	GtkWidget *avatar;
	GtkWidget *head;
	GtkWidget *list;
	GtkWidget *contacted;
	GtkWidget *warning;
	GtkWidget *countdown;
	GtkWidget *not_requested;
	GtkWidget *deny;
	GtkWidget *view_only;
	GtkWidget *allow;
};

G_DEFINE_TYPE(LlAppletConsentWindow, ll_applet_consent_window, GTK_TYPE_WINDOW)

static void ll_applet_consent_window_class_init(LlAppletConsentWindowClass *k)
{
	GtkWidgetClass *wk = GTK_WIDGET_CLASS(k);

	g_type_ensure(LL_TYPE_BRAND_HEADER);
	gtk_widget_class_set_template_from_resource(
		wk, "/org/lifeline/applet/consent_dialog.ui");
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow,
					     avatar);
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow, head);
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow, list);
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow,
					     contacted);
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow,
					     warning);
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow,
					     countdown);
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow,
					     not_requested);
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow, deny);
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow,
					     view_only);
	gtk_widget_class_bind_template_child(wk, LlAppletConsentWindow, allow);
}

static void ll_applet_consent_window_init(LlAppletConsentWindow *w)
{
	gtk_widget_init_template(GTK_WIDGET(w));
}

struct ll_consent_dialog {
	struct ll_applet *a;
	GtkWidget *win;
	GtkWidget *countdown;
	GtkWidget *answers[4]; /* insensitive until armed; NULL: not shown */
	GtkWidget *focus;      /* Deny */
	guint timer;
	guint arm_timer;
	int left;
	bool mapped;
	bool armed;
	guint32 armed_time; /* X server time of arming, 0: unknown */
	bool answered;
	bool freeing;
	/* Keys down from before (ignored until released), and presses held
	 * back until their release. */
	uint8_t stale[KEYS / 8];
	GdkEvent *held[KEYS];
	uint8_t buttons_stale; /* bit b-1: pressed before arming */
	void (*on_answer)(enum ll_consent_answer ans, void *user);
	void *user;
};

/* Live dialogs, for the event handler (main thread only). */
static GSList *dialogs;
static bool handler_installed;

static bool bit_get(const uint8_t *set, unsigned i)
{
	return i < KEYS && (set[i / 8] & (1u << (i % 8)));
}

static void bit_put(uint8_t *set, unsigned i, bool on)
{
	if (i >= KEYS)
		return;
	if (on)
		set[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		set[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* Every key the display server has down right now becomes stale. */
static void mark_keys_down(struct ll_consent_dialog *d)
{
#ifdef GDK_WINDOWING_X11
	GdkDisplay *gd = gtk_widget_get_display(d->win);
	char keys[32];
	unsigned i;

	if (!GDK_IS_X11_DISPLAY(gd))
		return;
	XQueryKeymap(gdk_x11_display_get_xdisplay(gd), keys);
	for (i = 0; i < KEYS; i++)
		if (keys[i / 8] & (1 << (i % 8)))
			bit_put(d->stale, i, true);
#endif
}

static void drop_held(struct ll_consent_dialog *d)
{
	unsigned i;

	for (i = 0; i < KEYS; i++)
		g_clear_pointer(&d->held[i], gdk_event_free);
}

static struct ll_consent_dialog *dialog_of(GdkEvent *ev)
{
	GdkWindow *w = ((GdkEventAny *)ev)->window;
	GSList *l;

	if (w == NULL)
		return NULL;
	w = gdk_window_get_toplevel(w);
	for (l = dialogs; l != NULL; l = l->next) {
		struct ll_consent_dialog *d = l->data;

		if (d->win != NULL && gtk_widget_get_window(d->win) == w)
			return d;
	}
	return NULL;
}

/*
 * Armed at the event's own time: an event the server stamped before the
 * arming counts as early even when GTK dispatches it later.
 */
static bool armed_at(const struct ll_consent_dialog *d, guint32 t)
{
	if (!d->armed)
		return false;
	return d->armed_time == 0 || t == GDK_CURRENT_TIME ||
	       (gint32)(t - d->armed_time) >= 0;
}

/* Returns true when the event may go on to GTK. */
static bool filter_key(struct ll_consent_dialog *d, GdkEvent *ev)
{
	unsigned code = ev->key.hardware_keycode;

	if (ev->type == GDK_KEY_PRESS) {
		if (!armed_at(d, ev->key.time) || bit_get(d->stale, code)) {
			/* Held from before, or too early: it stays ignored
			 * until released. */
			bit_put(d->stale, code, true);
			return false;
		}
		if (code < KEYS) {
			/* A repeat of a press we hold back changes nothing. */
			if (d->held[code] == NULL)
				d->held[code] = gdk_event_copy(ev);
		}
		return false;
	}
	/* Release. */
	if (bit_get(d->stale, code)) {
		bit_put(d->stale, code, false);
		return false;
	}
	if (code >= KEYS || d->held[code] == NULL)
		return false;
	/* A whole fresh keystroke: GTK gets the press now, then the
	 * release.  The press may answer and free the dialog. */
	{
		GdkEvent *press = d->held[code];

		d->held[code] = NULL;
		gtk_main_do_event(press);
		gdk_event_free(press);
	}
	return true;
}

static bool filter_button(struct ll_consent_dialog *d, GdkEvent *ev)
{
	guint b = ev->button.button;
	uint8_t bit = b >= 1 && b <= 8 ? (uint8_t)(1u << (b - 1)) : 0;

	if (ev->type == GDK_BUTTON_PRESS || ev->type == GDK_2BUTTON_PRESS ||
	    ev->type == GDK_3BUTTON_PRESS) {
		if (!armed_at(d, ev->button.time) ||
		    (d->buttons_stale & bit)) {
			d->buttons_stale |= bit;
			return false;
		}
		return true;
	}
	if (d->buttons_stale & bit) {
		d->buttons_stale &= (uint8_t)~bit;
		return false;
	}
	return true;
}

static void on_gdk_event(GdkEvent *ev, gpointer data)
{
	struct ll_consent_dialog *d = NULL;
	bool pass = true;

	switch (ev->type) {
	case GDK_KEY_PRESS:
	case GDK_KEY_RELEASE:
		if ((d = dialog_of(ev)) != NULL)
			pass = filter_key(d, ev);
		break;
	case GDK_BUTTON_PRESS:
	case GDK_2BUTTON_PRESS:
	case GDK_3BUTTON_PRESS:
	case GDK_BUTTON_RELEASE:
		if ((d = dialog_of(ev)) != NULL)
			pass = filter_button(d, ev);
		break;
	case GDK_TOUCH_BEGIN:
	case GDK_TOUCH_UPDATE:
	case GDK_TOUCH_END:
		if ((d = dialog_of(ev)) != NULL)
			pass = armed_at(d, ev->touch.time);
		break;
	default:
		break;
	}
	if (pass)
		gtk_main_do_event(ev);
}

static void install_handler(void)
{
	if (handler_installed)
		return;
	/* In front of GTK's own handler, which it then calls. */
	gdk_event_handler_set(on_gdk_event, NULL, NULL);
	handler_installed = true;
}

static void answer(struct ll_consent_dialog *d, enum ll_consent_answer ans)
{
	if (d->answered)
		return;
	/* A person's answer needs an armed window; the timeout and the
	 * window going away (both refusals) do not. */
	if (!d->armed && ans != LL_CONSENT_TIMEOUT && ans != LL_CONSENT_DENY)
		return;
	d->answered = true;
	g_clear_handle_id(&d->timer, g_source_remove);
	/* May free d: nothing after this. */
	d->on_answer(ans, d->user);
}

static void show_left(struct ll_consent_dialog *d)
{
	char *t = g_strdup_printf(
		"If you do not answer, the request is refused in %d s.",
		d->left);

	gtk_label_set_text(GTK_LABEL(d->countdown), t);
	g_free(t);
}

static gboolean on_tick(gpointer data)
{
	struct ll_consent_dialog *d = data;

	if (--d->left > 0) {
		show_left(d);
		return G_SOURCE_CONTINUE;
	}
	d->timer = 0;
	answer(d, LL_CONSENT_TIMEOUT);
	return G_SOURCE_REMOVE;
}

static void on_allow(GtkButton *b, gpointer data)
{
	answer(data, LL_CONSENT_ALLOW);
}

static void on_view_only(GtkButton *b, gpointer data)
{
	answer(data, LL_CONSENT_VIEW_ONLY);
}

static void on_deny(GtkButton *b, gpointer data)
{
	answer(data, LL_CONSENT_DENY);
}

static gboolean on_not_requested(GtkLinkButton *b, gpointer data)
{
	answer(data, LL_CONSENT_NOT_REQUESTED);
	return TRUE; /* no URI to open */
}

static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	answer(data, LL_CONSENT_DENY);
	return TRUE; /* the session frees the window */
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct ll_consent_dialog *d = data;

	d->win = NULL;
	if (!d->freeing)
		answer(d, LL_CONSENT_DENY);
}

static gboolean on_armed(gpointer data)
{
	struct ll_consent_dialog *d = data;
	size_t i;

	d->arm_timer = 0;
	/* Whatever is down now was pressed before the answers could be
	 * given: it must be released first. */
	mark_keys_down(d);
#ifdef GDK_WINDOWING_X11
	if (GDK_IS_X11_WINDOW(gtk_widget_get_window(d->win)))
		d->armed_time = gdk_x11_get_server_time(
			gtk_widget_get_window(d->win));
#endif
	d->armed = true;
	for (i = 0; i < G_N_ELEMENTS(d->answers); i++)
		if (d->answers[i] != NULL)
			gtk_widget_set_sensitive(d->answers[i], TRUE);
	gtk_widget_grab_focus(d->focus);
	/* The ring on Deny shows where Enter and Space go, before any key
	 * was typed (GTK otherwise draws it only after one). */
	gtk_window_set_focus_visible(GTK_WINDOW(d->win), TRUE);
	/* Tests and the screen benchmark wait for this line. */
	ll_info("consent: the permission window accepts answers now");
	return G_SOURCE_REMOVE;
}

/* Arming starts once the window is really there; focus to Deny. */
static gboolean on_map(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	struct ll_consent_dialog *d = data;

	gtk_widget_grab_focus(d->focus);
	if (!d->mapped) {
		d->mapped = true;
		mark_keys_down(d);
		d->arm_timer = g_timeout_add(LL_APPLET_CONSENT_ARM_MS,
					     on_armed, d);
	}
	return FALSE;
}

/*
 * A button answers when clicked (the mouse: on the release of a press
 * after arming) and when activated from the keyboard (its mnemonic,
 * Space or Enter: the filter above hands GTK the press only once its
 * release came, so the keystroke is whole by then).  GtkButton would
 * emit "clicked" for the keyboard only 250 ms later (its
 * ACTIVATE_TIMEOUT, to draw the button pressed): that was a quarter of
 * a second of the wait between Alt+A and the first picture.
 */
static void connect_answer(GtkWidget *button, GCallback cb, gpointer d)
{
	g_signal_connect(button, "clicked", cb, d);
	g_signal_connect(button, "activate", cb, d);
}

/* Who asks (bold, as the relay verified it), what for, whom the user
 * should have contacted, and the brand's warning. */
static void fill(LlAppletConsentWindow *t, const char *name, const char *org,
		 uint32_t caps)
{
	const struct ll_brand *b = ll_ui_brand();
	struct ll_brand_vars v;
	GtkWidget *line;
	char *text, *esc;
	uint32_t bit;

	ll_applet_who(name, org, true, &v.technician, &v.technician_org);
	ll_applet_avatar_fill(t->avatar, name, org);
	text = ll_brand_format(b, LL_BRAND_CONSENT_INTRO, &v, true);
	gtk_label_set_markup(GTK_LABEL(t->head), text);
	g_free(text);
	/* What the user reads, in the log too: the GUI tests wait for it,
	 * and a support call can see who asked. */
	text = ll_brand_format(b, LL_BRAND_CONSENT_INTRO, &v, false);
	ll_info("consent: %s", text);
	g_free(text);
	esc = g_markup_escape_text(v.technician_org, -1);
	text = g_strdup_printf("<b>Only allow this if you contacted %s for "
			       "help.</b>",
			       esc);
	gtk_label_set_markup(GTK_LABEL(t->contacted), text);
	g_free(text);
	g_free(esc);
	for (bit = 1; bit <= LL_CAP_ALL; bit <<= 1) {
		if (!(caps & bit))
			continue;
		text = g_strdup_printf("\u2022 %s", ll_applet_cap_words(bit));
		ll_info("consent: %s", text);
		line = gtk_label_new(text);
		g_free(text);
		gtk_label_set_xalign(GTK_LABEL(line), 0);
		gtk_widget_show(line);
		gtk_box_pack_start(GTK_BOX(t->list), line, FALSE, FALSE, 0);
	}
	text = ll_brand_format(b, LL_BRAND_CONSENT_WARNING, NULL, false);
	gtk_label_set_text(GTK_LABEL(t->warning), text);
	g_free(text);
}

struct ll_consent_dialog *ll_consent_dialog_new(
	struct ll_applet *a, const char *name, const char *org, uint32_t caps,
	int timeout_s,
	void (*on_answer)(enum ll_consent_answer ans, void *user), void *user)
{
	struct ll_consent_dialog *d = g_new0(struct ll_consent_dialog, 1);
	LlAppletConsentWindow *t;
	GtkWidget *allow, *deny, *link, *view_only;
	bool choice;
	char *title = ll_applet_title("Permission request");
	size_t i;

	d->a = a;
	d->on_answer = on_answer;
	d->user = user;
	d->left = timeout_s > 0 ? timeout_s : LL_APPLET_CONSENT_TIMEOUT_S;

	t = g_object_new(LL_TYPE_APPLET_CONSENT_WINDOW, NULL);
	d->win = GTK_WIDGET(t);
	gtk_window_set_title(GTK_WINDOW(d->win), title);
	g_free(title);
	gtk_window_set_type_hint(GTK_WINDOW(d->win),
				 GDK_WINDOW_TYPE_HINT_DIALOG);
	gtk_window_set_keep_above(GTK_WINDOW(d->win), TRUE);
	gtk_window_set_resizable(GTK_WINDOW(d->win), FALSE);
	gtk_window_set_position(GTK_WINDOW(d->win), GTK_WIN_POS_CENTER);
	gtk_window_set_urgency_hint(GTK_WINDOW(d->win), TRUE);
	ll_applet_track_window(a, GTK_WINDOW(d->win));
	fill(t, name, org, caps);

	d->countdown = t->countdown;
	show_left(d);

	/* Alt+N: reachable from the keyboard without a detour. */
	link = t->not_requested;
	deny = t->deny;
	allow = t->allow;
	view_only = t->view_only;
	/* View only: when view comes with more.  A hidden button takes no
	 * mnemonic, and it is not among the answers that arming enables. */
	choice = (caps & LL_CAP_VIEW) && (caps & ~(uint32_t)LL_CAP_VIEW);
	if (choice) {
		gtk_button_set_label(GTK_BUTTON(allow), "Allow _all");
		atk_object_set_name(gtk_widget_get_accessible(allow),
				    "Allow all");
	} else {
		gtk_widget_hide(view_only);
		gtk_widget_set_no_show_all(view_only, TRUE);
	}
	/* No default: Enter never means Allow. */
	gtk_widget_set_can_default(deny, FALSE);
	gtk_widget_set_can_default(view_only, FALSE);
	gtk_widget_set_can_default(allow, FALSE);
	d->focus = deny;
	d->answers[0] = allow;
	d->answers[1] = deny;
	d->answers[2] = link;
	d->answers[3] = choice ? view_only : NULL;
	for (i = 0; i < G_N_ELEMENTS(d->answers); i++)
		if (d->answers[i] != NULL)
			gtk_widget_set_sensitive(d->answers[i], FALSE);

	connect_answer(allow, G_CALLBACK(on_allow), d);
	connect_answer(deny, G_CALLBACK(on_deny), d);
	if (choice)
		connect_answer(view_only, G_CALLBACK(on_view_only), d);
	g_signal_connect(link, "activate-link", G_CALLBACK(on_not_requested),
			 d);
	g_signal_connect(d->win, "delete-event", G_CALLBACK(on_delete), d);
	g_signal_connect(d->win, "destroy", G_CALLBACK(on_destroy), d);
	g_signal_connect(d->win, "map-event", G_CALLBACK(on_map), d);

	install_handler();
	dialogs = g_slist_prepend(dialogs, d);
	gtk_widget_show_all(d->win);
	/* Raise and take the keyboard focus (also without a window
	 * manager, where GDK sets the X input focus itself). */
	gtk_window_present(GTK_WINDOW(d->win));
	d->timer = g_timeout_add(1000, on_tick, d);
	return d;
}

void ll_consent_dialog_free(struct ll_consent_dialog *d)
{
	if (d == NULL)
		return;
	d->freeing = true;
	d->answered = true;
	dialogs = g_slist_remove(dialogs, d);
	g_clear_handle_id(&d->timer, g_source_remove);
	g_clear_handle_id(&d->arm_timer, g_source_remove);
	drop_held(d);
	if (d->win != NULL)
		gtk_widget_destroy(d->win);
	g_free(d);
}
