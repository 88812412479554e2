package io.durablesessions.functions.http;

import io.durablesessions.events.Fields;
import io.durablesessions.events.Json;
import io.durablesessions.events.ProtocolException;
import io.durablesessions.functions.store.SessionCatalog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code nextCursor} of {@code GET /v1/sessions}: where the next page starts (the last session
 * of this page, which the caller may not be allowed to read), sealed with AES-GCM under a key of
 * the deployment. Opaque (it names no session) and bound to the caller and the owner listed
 * (associated data), so it cannot be read, forged, or replayed by someone else or for another list.
 */
final class ListCursor {
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    ListCursor(byte[] key) {
        this.key = new SecretKeySpec(key, "AES");
    }

    String seal(SessionCatalog.Cursor c, String caller, String owner) {
        byte[] plain = Json.write(Json.object().put("s", c.sessionId()).put("c", c.createdAt()))
                .getBytes(StandardCharsets.UTF_8);
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            gcm.updateAAD(context(caller, owner));
            byte[] sealed = gcm.doFinal(plain);
            return Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(ByteBuffer.allocate(nonce.length + sealed.length)
                            .put(nonce)
                            .put(sealed)
                            .array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is unavailable", e);
        }
    }

    /** The position a cursor of this caller and owner names; anything else is refused with one fixed message. */
    SessionCatalog.Cursor open(String cursor, String caller, String owner) {
        if (cursor == null) return null;
        try {
            if (cursor.length() > 512) throw new IllegalArgumentException();
            byte[] raw = Base64.getUrlDecoder().decode(cursor);
            if (raw.length <= NONCE_BYTES) throw new IllegalArgumentException();
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, raw, 0, NONCE_BYTES));
            gcm.updateAAD(context(caller, owner));
            byte[] plain = gcm.doFinal(raw, NONCE_BYTES, raw.length - NONCE_BYTES);
            var n = Json.parseObject(new String(plain, StandardCharsets.UTF_8));
            return new SessionCatalog.Cursor(Fields.id(n, "s"), n.get("c").longValue());
        } catch (GeneralSecurityException | RuntimeException e) {
            throw ProtocolException.invalid("cursor", "is not a cursor this API returned for this list");
        }
    }

    private static byte[] context(String caller, String owner) {
        return (caller + "\u0000" + owner).getBytes(StandardCharsets.UTF_8);
    }
}
