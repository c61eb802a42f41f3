<?php
/**
 * Plugin Name: herald publisher
 * Description: Tells herald (https://github.com/ — see deploy/wordpress/README.md) the moment a post is published, updated, trashed or deleted, signed with Standard Webhooks.
 * Version:     1.0.0
 * Requires at least: 5.6
 * License:     MIT
 *
 * A must-use plugin: copy this file to wp-content/mu-plugins/herald.php. Settings are constants
 * in wp-config.php:
 *
 *   define( 'HERALD_URL', 'https://herald.example.com/v1/hooks/wordpress' );
 *   define( 'HERALD_WEBHOOK_SECRET', 'whsec_...' );       // the same secret as herald's webhooks[].secret
 *                                                         // (while rotating: 'whsec_new whsec_old')
 *   define( 'HERALD_POST_TYPES', 'post' );                // optional, comma-separated
 *   define( 'HERALD_TIMEOUT', 5 );                        // optional, seconds per attempt
 *
 * Each event sends the post as the REST API shows it (GET /wp/v2/posts/<id>?_embed), signed per
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md :
 * webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">.
 * A failed send is retried by WP-Cron with the same webhook-id (1, 5, 30 minutes).
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

if ( ! defined( 'HERALD_URL' ) || ! defined( 'HERALD_WEBHOOK_SECRET' ) ) {
	return; // Not configured: do nothing rather than fail a save.
}

/** The largest request body herald reads: 4 MiB. */
const HERALD_MAX_BODY = 4194304;

/** Post types herald hears about. */
function herald_post_types() {
	$types = defined( 'HERALD_POST_TYPES' ) ? HERALD_POST_TYPES : 'post';
	return array_filter( array_map( 'trim', explode( ',', $types ) ) );
}

/**
 * The HMAC keys: a "whsec_" secret is base64 after the prefix (Standard Webhooks); any other
 * secret is used as written, as herald does. While a secret is rotated, HERALD_WEBHOOK_SECRET
 * holds the new and the old "whsec_" secrets separated by a space, and every event carries a
 * signature by each (herald accepts a request that one of them signs), so herald can be moved to
 * the new secret without refusing a single event. An empty array: a "whsec_" secret that is not
 * base64.
 */
function herald_signing_keys() {
	$secret = trim( HERALD_WEBHOOK_SECRET );
	$parts  = preg_split( '/\s+/', $secret );
	foreach ( $parts as $part ) {
		if ( 0 !== strpos( $part, 'whsec_' ) ) {
			return array( HERALD_WEBHOOK_SECRET ); // one secret as written, spaces and all
		}
	}
	$keys = array();
	foreach ( $parts as $part ) {
		$key = base64_decode( substr( $part, 6 ), true );
		if ( false === $key || '' === $key ) {
			return array();
		}
		$keys[] = $key;
	}
	return $keys;
}

/**
 * On a multisite network every site numbers its posts on its own, so post 4711 of one site and
 * post 4711 of another are two stories that herald, with one secret for the network, took for one
 * (the second never posted; trashing it took the first one's posts down). Every site but the main
 * one adds its blog_id, and herald's article id becomes wp-<site>-<blog_id>-<post id>; the main
 * site's ids stay wp-<site>-<post id>.
 */
function herald_blog_fields( $data ) {
	if ( is_multisite() && ! is_main_site() ) {
		$data['blog_id'] = get_current_blog_id();
	}
	return $data;
}

/**
 * The post as GET /wp/v2/posts/<id>?_embed shows it: title, excerpt, content, link, terms,
 * featured image. A post type the REST API does not serve (register_post_type's show_in_rest is
 * false by default) is sent as herald_post_fields() builds it: that post was never sent at all.
 */
function herald_post_payload( $post ) {
	$type_object = get_post_type_object( $post->post_type );
	if ( ! $type_object || empty( $type_object->show_in_rest ) ) {
		return herald_post_fields( $post );
	}
	$base      = ! empty( $type_object->rest_base ) ? $type_object->rest_base : $post->post_type;
	$namespace = ! empty( $type_object->rest_namespace ) ? $type_object->rest_namespace : 'wp/v2';
	$request   = new WP_REST_Request( 'GET', '/' . $namespace . '/' . $base . '/' . $post->ID );
	$request->set_query_params( array( '_embed' => 'wp:featuredmedia,wp:term' ) );
	$response = rest_do_request( $request );
	if ( $response->is_error() ) {
		// A plugin that refuses REST requests (rest_pre_dispatch) must not silence herald.
		return herald_post_fields( $post );
	}
	// Embed only what herald reads: the featured image and the terms (WordPress 5.4+).
	return herald_blog_fields( rest_get_server()->response_to_data( $response, array( 'wp:featuredmedia', 'wp:term' ) ) );
}

/** The fields of the REST post object that herald reads, built from the post itself. */
function herald_post_fields( $post ) {
	$embedded = array();
	$thumb    = (int) get_post_thumbnail_id( $post );
	$image    = $thumb ? wp_get_attachment_url( $thumb ) : false;
	if ( $image ) {
		$embedded['wp:featuredmedia'] = array( array( 'id' => $thumb, 'source_url' => $image ) );
	}
	foreach ( array( 'category', 'post_tag' ) as $taxonomy ) {
		$terms = get_the_terms( $post, $taxonomy );
		if ( is_array( $terms ) ) {
			$group = array();
			foreach ( $terms as $term ) {
				$group[] = array( 'id' => $term->term_id, 'name' => $term->name, 'taxonomy' => $term->taxonomy );
			}
			$embedded['wp:term'][] = $group;
		}
	}
	$data = array(
		'id'             => $post->ID,
		'status'         => $post->post_status,
		'guid'           => array( 'rendered' => get_the_guid( $post ) ),
		'link'           => get_permalink( $post ),
		'title'          => array( 'rendered' => get_the_title( $post ) ),
		'content'        => array( 'rendered' => apply_filters( 'the_content', $post->post_content ) ),
		'excerpt'        => array( 'rendered' => apply_filters( 'the_excerpt', get_the_excerpt( $post ) ) ),
		'featured_media' => $thumb,
		'_embedded'      => (object) $embedded,
	);
	$date = mysql2date( 'Y-m-d\TH:i:s', $post->post_date_gmt, false ); // false for a zero date
	if ( $date ) {
		$data['date_gmt'] = $date;
	}
	return herald_blog_fields( $data );
}

/**
 * A trashed post is no longer readable over the REST API: send what herald needs. Its link is the
 * one it was published under: WordPress renames a trashed post's slug to "<slug>__trashed" (the
 * slug cut to 191 characters first, which a long Arabic slug, percent-encoded, always is) and
 * keeps the old one in _wp_desired_post_slug; herald finds by this link a post it has under
 * another id (the site's feed posted it first), else by its GUID (the feed's item has the same
 * one, which an editor's change of the slug leaves as it was).
 */
function herald_trash_payload( $post ) {
	$link    = get_permalink( $post );
	$desired = get_post_meta( $post->ID, '_wp_desired_post_slug', true );
	if ( is_string( $desired ) && '' !== $desired ) {
		$published              = clone $post;
		$published->post_name   = $desired;
		$published->post_status = 'publish';
		$link                   = get_permalink( $published );
	}
	return herald_blog_fields(
		array(
			'id'     => $post->ID,
			'status' => 'trash',
			'link'   => $link,
			'guid'   => array( 'rendered' => get_the_guid( $post ) ),
			'title'  => array( 'rendered' => get_the_title( $post ) ),
		)
	);
}

/**
 * The post's language, for herald's routes (languages:) and formatters, when the REST API gives
 * none (only Polylang Pro adds "lang"): Polylang's or WPML's language of the post, else the
 * site's (Settings, General), which the site's feed gives as its <language> too. Without it a
 * post the plugin sent missed every route by language that the same story from the feed took.
 */
function herald_post_language( $post ) {
	if ( function_exists( 'pll_get_post_language' ) ) {
		$lang = pll_get_post_language( $post->ID );
		if ( $lang ) {
			return $lang;
		}
	}
	$details = apply_filters( 'wpml_post_language_details', null, $post->ID );
	if ( is_array( $details ) && ! empty( $details['language_code'] ) ) {
		return $details['language_code'];
	}
	return get_bloginfo( 'language' );
}

/** Queue one event to send when the request ends, so saving a post never waits for herald. */
function herald_queue_event( $event, $payload ) {
	static $queued = array();
	$body = wp_json_encode( $payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES );
	if ( false !== $body && strlen( $body ) > HERALD_MAX_BODY && isset( $payload['content'] ) ) {
		// herald refuses a request over 4 MiB (413, not retried): a photo pasted into the
		// content as a data: URI. herald posts such a story without its content anyway.
		$payload['content'] = array( 'rendered' => '' );
		$body               = wp_json_encode( $payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES );
	}
	if ( false === $body ) {
		return;
	}
	// The blog too: a request may publish in several sites of a network (switch_to_blog), whose
	// post ids are their own.
	$key = $event . ':' . get_current_blog_id() . ':' . ( isset( $payload['id'] ) ? $payload['id'] : md5( $body ) );
	if ( isset( $queued[ $key ] ) ) {
		return; // The block editor may save twice in one request.
	}
	$queued[ $key ] = true;
	$msg_id         = 'msg_' . wp_generate_uuid4();
	add_action(
		'shutdown',
		function () use ( $event, $body, $msg_id ) {
			// Under PHP-FPM the editor gets its answer first; the send happens after.
			if ( function_exists( 'fastcgi_finish_request' ) ) {
				fastcgi_finish_request();
			}
			herald_send( $event, $body, $msg_id, 0 );
		},
		100
	);
}

/**
 * Sign and POST one event; on failure schedule a retry with the same message id. A retry's body
 * waits in an option of its own, not autoloaded, and the cron event carries '' in its place:
 * WP-Cron keeps every event in one autoloaded option, read on every request, and a post of
 * megabytes there (a photo pasted as a data: URI) weighed on every page while herald was away,
 * or made that option larger than MySQL takes (max_allowed_packet), after which no cron event
 * was saved at all, the publication of scheduled posts included.
 */
function herald_send( $event, $body, $msg_id, $attempt ) {
	$stored      = 'herald_retry_' . $msg_id;
	$from_option = '' === $body;
	if ( $from_option ) {
		$body = get_option( $stored );
		if ( ! is_string( $body ) || '' === $body ) {
			return;
		}
	}
	$keys = herald_signing_keys();
	if ( ! $keys ) {
		error_log( 'herald: HERALD_WEBHOOK_SECRET is not whsec_ followed by base64' );
		return;
	}
	$timestamp  = time();
	$signatures = array();
	foreach ( $keys as $key ) {
		$signatures[] = 'v1,' . base64_encode( hash_hmac( 'sha256', $msg_id . '.' . $timestamp . '.' . $body, $key, true ) );
	}
	$signature = implode( ' ', $signatures );
	$response  = wp_remote_post(
		HERALD_URL,
		array(
			'timeout' => defined( 'HERALD_TIMEOUT' ) ? (int) HERALD_TIMEOUT : 5,
			'headers' => array(
				'Content-Type'      => 'application/json; charset=utf-8',
				'webhook-id'        => $msg_id,
				'webhook-timestamp' => (string) $timestamp,
				'webhook-signature' => $signature,
				'X-Herald-Event'    => $event,
			),
			'body'    => $body,
		)
	);
	$code = is_wp_error( $response ) ? 0 : (int) wp_remote_retrieve_response_code( $response );
	if ( $code >= 200 && $code < 300 ) {
		if ( $from_option ) {
			delete_option( $stored );
		}
		return;
	}
	// 4xx other than 429 will not get better by retrying (bad secret, invalid post).
	$retryable = 0 === $code || 429 === $code || $code >= 500;
	$delays    = array( 60, 300, 1800 );
	$why       = is_wp_error( $response ) ? $response->get_error_message() : 'HTTP ' . $code;
	error_log( sprintf( 'herald: sending %s %s failed (%s), attempt %d', $event, $msg_id, $why, $attempt + 1 ) );
	if ( $retryable && $attempt < count( $delays ) ) {
		if ( ! $from_option ) {
			update_option( $stored, $body, false );
		}
		wp_schedule_single_event( time() + $delays[ $attempt ], 'herald_retry', array( $event, '', $msg_id, $attempt + 1 ) );
	} elseif ( $from_option ) {
		delete_option( $stored );
	}
}
add_action( 'herald_retry', 'herald_send', 10, 4 );

/**
 * Publish and update: wp_after_insert_post runs once terms and meta (the featured image) are
 * saved, which transition_post_status does not wait for.
 */
add_action(
	'wp_after_insert_post',
	function ( $post_id, $post, $update, $post_before ) {
		if ( 'publish' !== $post->post_status || ! in_array( $post->post_type, herald_post_types(), true ) ) {
			return;
		}
		// A password-protected post is never news: post_password_required() answers false to an
		// editor whose browser holds the password (after viewing the post), so ask the post.
		if ( wp_is_post_revision( $post_id ) || wp_is_post_autosave( $post_id ) || '' !== (string) $post->post_password ) {
			return;
		}
		$was_published = $post_before && 'publish' === $post_before->post_status;
		$payload       = herald_post_payload( $post );
		if ( null !== $payload && empty( $payload['lang'] ) ) {
			$payload['lang'] = herald_post_language( $post );
		}
		if ( null !== $payload ) {
			herald_queue_event( $was_published ? 'update' : 'publish', $payload );
		}
	},
	10,
	4
);

/** Trash: only posts that were public; herald retracts the article (deletes its posts where the platform can). */
add_action(
	'trashed_post',
	function ( $post_id, $previous_status = '' ) {
		$post = get_post( $post_id );
		if ( ! $post || ! in_array( $post->post_type, herald_post_types(), true ) ) {
			return;
		}
		if ( '' !== $previous_status && 'publish' !== $previous_status ) {
			return;
		}
		herald_queue_event( 'trash', herald_trash_payload( $post ) );
	},
	10,
	2
);

/**
 * Deleted for good without passing through the trash: with EMPTY_TRASH_DAYS set to 0,
 * wp_trash_post() deletes the post at once (trashed_post never fires), and so do the REST API's
 * DELETE ?force=true, "wp post delete --force" and custom post types without trash. Only a post
 * that is public as it goes (a post emptied from the trash was retracted when it was trashed).
 * before_delete_post runs while the post, its terms and its meta are still there, so its
 * permalink is the one it was published under. The event is the REST API's answer to a delete,
 * {"deleted":true,"previous":<post>}; herald retracts the article as for trash.
 */
add_action(
	'before_delete_post',
	function ( $post_id, $post = null ) {
		$post = $post ? $post : get_post( $post_id );
		if ( ! $post || 'publish' !== $post->post_status || ! in_array( $post->post_type, herald_post_types(), true ) ) {
			return;
		}
		herald_queue_event(
			'delete',
			array(
				'deleted'  => true,
				'previous' => herald_blog_fields(
					array(
						'id'     => $post->ID,
						'status' => $post->post_status,
						'link'   => get_permalink( $post ),
						'guid'   => array( 'rendered' => get_the_guid( $post ) ),
						'title'  => array( 'rendered' => get_the_title( $post ) ),
					)
				),
			)
		);
	},
	10,
	2
);
