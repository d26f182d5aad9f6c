package io.hessianatlas.common.model.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** Strict JSON parsing shared by the readers: duplicate keys and trailing tokens are errors. */
final class ModelJson {
    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private ModelJson() {
    }

    /** Parses {@code bytes} (UTF-8) as JSON; never returns null (empty input is an error). */
    static JsonNode parse(byte[] bytes, int offset, int length) throws JsonProcessingException {
        try {
            JsonNode node = MAPPER.readTree(bytes, offset, length);
            if (node == null || node.isMissingNode()) {
                throw new EmptyJsonException();
            }
            return node;
        } catch (JsonProcessingException e) {
            throw e;
        } catch (java.io.IOException e) {
            // readTree(byte[]) declares IOException but only parsing errors can occur.
            throw new IllegalStateException(e);
        }
    }

    /** Thrown for empty (or whitespace-only) JSON input. */
    static final class EmptyJsonException extends JsonProcessingException {
        private static final long serialVersionUID = 1L;

        EmptyJsonException() {
            super("no JSON content");
        }
    }

    /** A one-line description of a parse error with its line and column. */
    static String describe(JsonProcessingException e) {
        String msg = e.getOriginalMessage();
        if (msg == null) {
            msg = e.getClass().getSimpleName();
        }
        msg = oneLine(msg);
        if (msg.length() > 200) {
            msg = msg.substring(0, 200) + "...";
        }
        JsonLocation loc = e.getLocation();
        if (loc != null && loc.getLineNr() > 0) {
            msg += " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
        }
        return msg;
    }

    static String oneLine(String s) {
        return s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }

    /** A short JSON-ish rendering of a node for error messages (at most 60 characters). */
    static String show(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "nothing";
        }
        String s = oneLine(node.toString());
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
