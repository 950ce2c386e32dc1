package org.qtale.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.format.HfConfig;
import org.qtale.model.LlamaConfig;
import org.qtale.quant.QuantizationConfig.Awq;
import org.qtale.quant.QuantizationConfig.Gptq;
import org.qtale.tensor.DType;

class QuantizationConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static QuantizationConfig parse(String json) {
        try {
            return QuantizationConfig.parse(JSON.readTree(json), "m/config.json");
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    private static String error(String json) {
        return assertThrows(QtaleException.class, () -> parse(json)).getMessage();
    }

    @Test
    void readsWhatAutoGptqWrites() {
        QuantizationConfig c = parse("""
                {"bits": 4, "group_size": 128, "damp_percent": 0.1, "desc_act": true, "static_groups": false,
                 "sym": true, "true_sequential": true, "model_name_or_path": null, "model_file_base_name": "model",
                 "quant_method": "gptq", "checkpoint_format": "gptq"}""");
        assertEquals(new Gptq(4, 128, true, true, false, 0.1, true, GptqLayout.V1, null, "model"), c);
        assertEquals(GptqLayout.V1, c.layout());
    }

    @Test
    void readsTransformersGptqConfigsWithTheirExtraFieldsAndDefaults() {
        QuantizationConfig c = parse("""
                {"quant_method": "gptq", "bits": 3, "group_size": -1, "use_exllama": true, "tokenizer": null,
                 "dataset": null, "exllama_config": {"version": 1}, "cache_block_outputs": true}""");
        assertEquals(new Gptq(3, -1, true, true, false, 0.01, true, GptqLayout.V1, null, null), c);
        assertEquals(GptqLayout.V2, parse("""
                {"quant_method": "gptq", "bits": 4, "checkpoint_format": "gptq_v2"}""").layout());
    }

    @Test
    void writesTheFieldsAutoGptqWritesInItsOrder() {
        Gptq c = Gptq.of(3, 64, false, false);
        assertEquals("{\"bits\":3,\"group_size\":64,\"damp_percent\":0.01,\"desc_act\":false,\"static_groups\":false,"
                + "\"sym\":false,\"true_sequential\":true,\"model_name_or_path\":null,\"model_file_base_name\":\"model\","
                + "\"quant_method\":\"gptq\",\"checkpoint_format\":\"gptq\"}", c.toJson().toString());
        assertEquals(c, QuantizationConfig.parse(c.toJson(), "written"));
    }

    @Test
    void readsAndWritesWhatAutoAwqExports() {
        String exported = "{\"quant_method\":\"awq\",\"zero_point\":true,\"group_size\":128,\"bits\":4,"
                + "\"version\":\"gemm\",\"modules_to_not_convert\":null}";
        QuantizationConfig c = parse(exported);
        assertEquals(Awq.of(128), c);
        assertEquals(AwqLayout.GEMM, c.layout());
        assertEquals(exported, c.toJson().toString());
        Awq skipping = new Awq(4, 64, true, AwqLayout.GEMM, List.of("gate"));
        assertEquals(skipping, QuantizationConfig.parse(skipping.toJson(), "written"));
        // transformers' AwqConfig adds fields; AutoAWQ's own names and an upper-case version read too
        assertEquals(Awq.of(64), parse("""
                {"quant_method": "awq", "w_bit": 4, "q_group_size": 64, "zero_point": true, "version": "GEMM",
                 "backend": "autoawq", "do_fuse": false}"""));
    }

    @Test
    void unknownMethodsAreNamed() {
        assertEquals("m/config.json is quantized with 'bitsandbytes', which qtale cannot read; it reads GPTQ and AWQ"
                + " checkpoints.", error("{\"quant_method\": \"bitsandbytes\", \"load_in_4bit\": true}"));
        assertEquals("m/config.json is quantized with 'fp8', which qtale cannot read; it reads GPTQ and AWQ checkpoints.",
                error("{\"quant_method\": \"fp8\"}"));
        assertEquals("m/config.json (quantization_config) has no 'quant_method', so qtale cannot tell how the weights"
                + " are packed.", error("{\"bits\": 4}"));
    }

    @Test
    void valuesOutsideWhatTheLayoutsHold() {
        assertEquals("GPTQ checkpoints hold 2, 3, 4 or 8-bit weights, not 5-bit.",
                error("{\"quant_method\": \"gptq\", \"bits\": 5}"));
        assertEquals("m/config.json (quantization_config) has no 'bits'.", error("{\"quant_method\": \"gptq\"}"));
        assertEquals("'bits' in m/config.json (quantization_config) must be an integer, got \"4\".",
                error("{\"quant_method\": \"gptq\", \"bits\": \"4\"}"));
        assertEquals("The quantization group size must be positive or −1 (one group per output channel), got 0.",
                error("{\"quant_method\": \"gptq\", \"bits\": 4, \"group_size\": 0}"));
        assertEquals("Unsupported GPTQ checkpoint_format 'marlin': qtale reads 'gptq' and 'gptq_v2'.",
                error("{\"quant_method\": \"gptq\", \"bits\": 4, \"checkpoint_format\": \"marlin\"}"));
        assertEquals("AWQ checkpoints hold 4-bit weights only (the GEMM layout), not 3-bit.",
                error("{\"quant_method\": \"awq\", \"bits\": 3, \"group_size\": 128}"));
        assertEquals("Unsupported AWQ version 'gemv': qtale reads the 'gemm' layout.",
                error("{\"quant_method\": \"awq\", \"bits\": 4, \"version\": \"gemv\"}"));
        assertEquals("AWQ checkpoints without zero points (zero_point false) are not supported: the GEMM layout stores"
                + " zero points.", error("{\"quant_method\": \"awq\", \"bits\": 4, \"zero_point\": false}"));
        assertEquals("'modules_to_not_convert' in m/config.json (quantization_config) must be a list of strings, got [1].",
                error("{\"quant_method\": \"awq\", \"modules_to_not_convert\": [1]}"));
        assertEquals("'quantization_config' in m/config.json must be a JSON object, got \"gptq\".",
                assertThrows(QtaleException.class,
                        () -> QuantizationConfig.parse(JSON.readTree("\"gptq\""), "m/config.json")).getMessage());
    }

    @Test
    void anUnquantizedConfigHasNoBlock() {
        JsonNode config = HfConfig.toJson(LlamaConfig.llama2c(16, 32, 1, 2, 2, 32, 32, true), DType.F32);
        assertFalse(QuantizationConfig.of(HfConfig.parse(config, "c"), "c").isPresent());
    }
}
