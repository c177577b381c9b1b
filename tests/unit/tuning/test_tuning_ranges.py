"""Tuning-job parameter ranges: models, CLI parsing, validation, Optuna glue, JSON."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest

from mlyard.algorithms import get_algorithm
from mlyard.core.params import Hyperparameter
from mlyard.errors import ValidationError
from mlyard.tuning.ranges import (
    MAX_GRID_SIZE,
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
    contains,
    decode,
    default_ranges,
    encode,
    grid_size,
    grid_space,
    parse_range,
    ranges_from_json,
    ranges_to_json,
    resolved_scaling,
    to_distributions,
    validate_ranges,
)

BLAZINGTEXT = get_algorithm("blazingtext").HYPERPARAMETERS
BERT = get_algorithm("bert").HYPERPARAMETERS

ISSUE_EXAMPLE = [
    "learning_rate=0.01:1.0:log",
    "word_ngrams=1:3",
    "vector_dim=[50,100,200]",
    "epochs=1:20",
]


def ranges(*texts: str) -> dict[str, ParameterRange]:
    return dict(parse_range(t) for t in texts)


def problems_of(rngs: dict[str, ParameterRange], hps: Any = BLAZINGTEXT,
                static: dict[str, Any] | None = None) -> str:
    with pytest.raises(ValidationError) as info:
        validate_ranges(rngs, hps, static or {}, owner="algorithm 'blazingtext'")
    message = str(info.value)
    assert message.startswith("algorithm 'blazingtext': ")
    return message


# --------------------------------------------------------------------------- parse_range


@pytest.mark.parametrize("text, name, expected", [
    ("learning_rate=0.01:1.0:log", "learning_rate",
     ContinuousParameter(min_value=0.01, max_value=1.0, scaling="Logarithmic")),
    ("word_ngrams=1:3", "word_ngrams", IntegerParameter(min_value=1, max_value=3)),
    ("vector_dim=[50,100,200]", "vector_dim", CategoricalParameter(values=[50, 100, 200])),
    (" lr = 1e-4 : 0.1 : LOGARITHMIC ", "lr",
     ContinuousParameter(min_value=1e-4, max_value=0.1, scaling="Logarithmic")),
    ("x=0:0.5", "x", ContinuousParameter(min_value=0.0, max_value=0.5)),
    ("x=-3:3:linear", "x", IntegerParameter(min_value=-3, max_value=3, scaling="Linear")),
    ("x=1:1000:Log", "x", IntegerParameter(min_value=1, max_value=1000, scaling="Logarithmic")),
    ("x=0.5:0.99:reverselog", "x",
     ContinuousParameter(min_value=0.5, max_value=0.99, scaling="ReverseLogarithmic")),
    ("x=0.5:0.99:ReverseLogarithmic", "x",
     ContinuousParameter(min_value=0.5, max_value=0.99, scaling="ReverseLogarithmic")),
    ("x=1:5:auto", "x", IntegerParameter(min_value=1, max_value=5, scaling="Auto")),
    ("x=1:5:float", "x", ContinuousParameter(min_value=1.0, max_value=5.0)),
    ("x=1.0:5e0:int", "x", IntegerParameter(min_value=1, max_value=5)),
    ("x=1:5:int:log", "x", IntegerParameter(min_value=1, max_value=5, scaling="Logarithmic")),
    ("x=0:0.9:reverselog:float", "x",
     ContinuousParameter(min_value=0.0, max_value=0.9, scaling="ReverseLogarithmic")),
    ("x=3:3", "x", IntegerParameter(min_value=3, max_value=3)),
    ("x=[ a , 2, 2.5 ,TRUE, false, '7', \"b c\"]", "x",
     CategoricalParameter(values=["a", 2, 2.5, True, False, "7", "b c"])),
    ("x=[only]", "x", CategoricalParameter(values=["only"])),
])
def test_parse_range_forms(text: str, name: str, expected: ParameterRange) -> None:
    got_name, got = parse_range(text)
    assert got_name == name
    assert got == expected
    assert type(got) is type(expected)


def test_parse_range_keeps_value_types() -> None:
    _, rng = parse_range("x=[2, 1.5, true, abc]")
    assert isinstance(rng, CategoricalParameter)
    assert [type(v) for v in rng.values] == [int, float, bool, str]
    _, cont = parse_range("x=1:5:float")
    assert isinstance(cont, ContinuousParameter) and isinstance(cont.min_value, float)


@pytest.mark.parametrize("text, message", [
    ("learning_rate", "expected NAME="),
    ("=1:2", "expected NAME="),
    ("x=", "expected MIN:MAX"),
    ("x=1", "expected MIN:MAX"),
    ("x=1:", "expected MIN:MAX"),
    ("x=1:2:log:int:extra", "expected MIN:MAX"),
    ("x=a:2", "'a' is not a number"),
    ("x=0:inf", "finite"),
    ("x=1:2:cubic", "'cubic' is neither a scaling"),
    ("x=1:2:log:linear", "scaling is given twice"),
    ("x=1:2:int:float", "type is given twice"),
    ("x=1.5:3:int", "1.5 is not an integer"),
    ("x=0.1:0.5:reverselog:int", "only to continuous ranges"),
    ("x=3:1", "inverted range 3..1"),
    ("x=1.0:0.5", "inverted range 1.0..0.5"),
    ("x=0.5:0.5", "empty range 0.5..0.5"),
    ("x=0:1:log", "log ranges must not touch zero"),
    ("x=0.0:1.0:log", "log ranges must not touch zero"),
    ("x=0.5:1.0:reverselog", "0 <= min_value and max_value < 1"),
    ("x=-0.1:0.5:reverselog", "0 <= min_value and max_value < 1"),
    ("x=[]", "at least one value"),
    ("x=[ ]", "at least one value"),
    ("x=[a,,b]", "empty item"),
    ("x=[a,b", "written [A,B,...]"),
    ("x=a,b]", "written [A,B,...]"),
    ("x=[a,b,a]", "distinct"),
    ("x=[1,1.0]", "distinct"),
    ("x=[1,true]", "distinct"),
])
def test_parse_range_errors(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_range(text)
    assert message in str(info.value)
    assert repr(text) in str(info.value)


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize("cls, fields, message", [
    (ContinuousParameter, {"min_value": 1.0, "max_value": 1.0}, "empty range"),
    (ContinuousParameter, {"min_value": 2.0, "max_value": 1.0}, "inverted range"),
    (ContinuousParameter, {"min_value": 0.0, "max_value": float("inf")}, "finite"),
    (ContinuousParameter, {"min_value": float("nan"), "max_value": 1.0}, "finite"),
    (ContinuousParameter, {"min_value": 0.0, "max_value": 1.0, "scaling": "Logarithmic"},
     "log ranges must not touch zero"),
    (ContinuousParameter, {"min_value": -1.0, "max_value": 1.0, "scaling": "Logarithmic"},
     "log ranges must not touch zero"),
    (ContinuousParameter, {"min_value": 0.1, "max_value": 1.0, "scaling": "ReverseLogarithmic"},
     "max_value < 1"),
    (ContinuousParameter, {"min_value": -0.1, "max_value": 0.5,
                           "scaling": "ReverseLogarithmic"}, "0 <= min_value"),
    (ContinuousParameter, {"min_value": True, "max_value": 2.0}, "must be numbers"),
    (ContinuousParameter, {"min_value": 0.0, "max_value": 1.0, "step": 0.1},
     "step: is not a known field"),
    (IntegerParameter, {"min_value": 5, "max_value": 4}, "inverted range 5..4"),
    (IntegerParameter, {"min_value": 0, "max_value": 4, "scaling": "Logarithmic"},
     "log ranges must not touch zero"),
    (IntegerParameter, {"min_value": 1, "max_value": 4, "scaling": "ReverseLogarithmic"},
     "scaling"),
    (IntegerParameter, {"min_value": 1.5, "max_value": 4}, "min_value"),
    (IntegerParameter, {"min_value": False, "max_value": 4}, "must be numbers"),
    (CategoricalParameter, {"values": []}, "at least one value"),
    (CategoricalParameter, {"values": ["a", "b", "a"]}, "distinct"),
    (CategoricalParameter, {"values": [1, 1.0]}, "distinct"),
    (CategoricalParameter, {"values": [0, False]}, "distinct"),
    (CategoricalParameter, {"values": [float("nan")]}, "finite"),
])
def test_model_errors(cls: type[pydantic.BaseModel], fields: dict[str, Any],
                      message: str) -> None:
    """A range built by hand raises one plain ValueError naming the class, not pydantic's
    dump."""
    with pytest.raises(ValidationError) as info:
        cls(**fields)
    text = str(info.value)
    assert isinstance(info.value, ValueError)
    assert not isinstance(info.value, pydantic.ValidationError)
    assert text.startswith(f"{cls.__name__}: ") and message in text, text
    assert "\n" not in text and "errors.pydantic.dev" not in text, text


@pytest.mark.parametrize("cls", [ContinuousParameter, IntegerParameter])
def test_a_wrong_scaling_name_lists_the_allowed_ones(cls: type[pydantic.BaseModel]) -> None:
    with pytest.raises(ValidationError,
                       match=r"^\w+Parameter: scaling: must be 'Auto', 'Linear',? "
                             r"(or )?'Logarithmic'.*, got 'log'$"):
        cls(min_value=1, max_value=10, scaling="log")


def test_ranges_take_sagemakers_positional_arguments() -> None:
    assert ContinuousParameter(0.01, 0.2, "Logarithmic") == ContinuousParameter(
        min_value=0.01, max_value=0.2, scaling="Logarithmic")
    assert IntegerParameter(1, 3, scaling_type="Linear").scaling == "Linear"
    assert CategoricalParameter(["a", "b"]).values == ["a", "b"]
    with pytest.raises(ValidationError, match="at most 3 positional arguments"):
        ContinuousParameter(0.1, 0.2, "Linear", 4)
    with pytest.raises(ValidationError, match="min_value given twice"):
        IntegerParameter(1, 3, min_value=2)


def test_models_accept_edges_and_are_frozen() -> None:
    assert IntegerParameter(min_value=3, max_value=3).min_value == 3
    rev = ContinuousParameter(min_value=0.0, max_value=0.999, scaling="ReverseLogarithmic")
    assert rev.max_value == 0.999
    assert CategoricalParameter(values=[True, False, "1", 2]).values == [True, False, "1", 2]
    with pytest.raises(pydantic.ValidationError):
        rev.min_value = 0.5  # type: ignore[misc]


@pytest.mark.parametrize("rng, expected", [
    (ContinuousParameter(min_value=1e-4, max_value=1e-2), "Logarithmic"),
    (ContinuousParameter(min_value=1e-4, max_value=9e-3), "Linear"),
    (ContinuousParameter(min_value=0.0, max_value=100.0), "Linear"),
    (ContinuousParameter(min_value=1e-4, max_value=1e-2, scaling="Linear"), "Linear"),
    (IntegerParameter(min_value=1, max_value=100), "Logarithmic"),
    (IntegerParameter(min_value=1, max_value=99), "Linear"),
    (IntegerParameter(min_value=0, max_value=1000), "Linear"),
    (IntegerParameter(min_value=-5, max_value=1000), "Linear"),
])
def test_auto_scaling(rng: ContinuousParameter | IntegerParameter, expected: str) -> None:
    assert resolved_scaling(rng) == expected


# --------------------------------------------------------------------------- declarations


def test_default_ranges_of_real_algorithms() -> None:
    bt = default_ranges(BLAZINGTEXT)
    assert set(bt) == {h.name for h in BLAZINGTEXT if h.tunable}
    assert bt["learning_rate"] == ContinuousParameter(min_value=0.005, max_value=1.0,
                                                      scaling="Logarithmic")
    assert bt["epochs"] == IntegerParameter(min_value=5, max_value=15, scaling="Linear")
    assert bt["buckets"] == IntegerParameter(min_value=1_000_000, max_value=10_000_000,
                                             scaling="Logarithmic")
    bert = default_ranges(BERT)
    assert bert["warmup_ratio"] == ContinuousParameter(min_value=0.0, max_value=0.2,
                                                       scaling="Linear")
    for hps, rngs in ((BLAZINGTEXT, bt), (BERT, bert)):
        validate_ranges(rngs, hps)
        to_distributions(rngs)


def test_default_ranges_booleans_categoricals_and_bad_declarations() -> None:
    hps = [
        Hyperparameter("flag", "boolean", False, tunable=True),
        Hyperparameter("opt", "categorical", "adam", choices=("adam", "sgd"), tunable=True),
        Hyperparameter("n", "integer", 4, min_value=1, max_value=8, tunable=True),
        Hyperparameter("fixed", "integer", 4, min_value=1, max_value=8),
    ]
    got = default_ranges(hps)
    assert got == {
        "flag": CategoricalParameter(values=[False, True]),
        "opt": CategoricalParameter(values=["adam", "sgd"]),
        "n": IntegerParameter(min_value=1, max_value=8),
    }
    validate_ranges(got, hps)
    with pytest.raises(ValidationError, match=r"'lr'.*no tuning_min"):
        default_ranges([Hyperparameter("lr", "continuous", 0.1, tunable=True)])


def test_issue_example_is_valid_for_blazingtext() -> None:
    rngs = ranges(*ISSUE_EXAMPLE)
    validate_ranges(rngs, BLAZINGTEXT, {"mode": "supervised", "buckets": 1000},
                    owner="algorithm 'blazingtext'")


def test_valid_bert_ranges() -> None:
    validate_ranges(ranges("learning_rate=1e-5:1e-4:log", "warmup_ratio=0:0.3",
                           "bf16=[true,false]", "train_batch_size=[16,32]",
                           "weight_decay=0:0.2:float"), BERT)


def test_unknown_name_lists_tunable_names() -> None:
    message = problems_of(ranges("lerning_rate=0.01:0.1"))
    assert "lerning_rate is not a hyperparameter" in message
    assert "tunable: epochs, learning_rate, min_count, vector_dim, word_ngrams, buckets" in message


def test_static_overlap() -> None:
    message = problems_of(ranges("epochs=1:20"), static={"epochs": 5})
    assert "epochs is given both as a range and as a static hyperparameter" in message


def test_out_of_allowed_range_uses_real_numbers() -> None:
    message = problems_of(ranges("learning_rate=0.0000001:20.0:log", "word_ngrams=1:10"))
    assert "learning_rate range 1e-07..20.0 goes outside the allowed 1e-06..10.0" in message
    assert "word_ngrams range 1..10 goes outside the allowed 1..6" in message
    bert_ok = ranges("warmup_ratio=0:0.5")
    validate_ranges(bert_ok, BERT)
    with pytest.raises(ValidationError, match=r"warmup_ratio range 0.0..0.6 goes outside the "
                                              r"allowed 0.0..0.5"):
        validate_ranges(ranges("warmup_ratio=0:0.6"), BERT)


def test_bad_categorical_values() -> None:
    message = problems_of(ranges("vector_dim=[50,100,5000]", "mode=[supervised,cbow]",
                                 "word_ngrams=[1,2.5]", "early_stopping=[true,maybe]",
                                 "shuffle=[yes,true]"))
    assert "vector_dim range value 5000: 5000 is above its maximum 1000" in message
    assert "mode range value 'cbow'" in message and "not one of ['supervised']" in message
    assert "word_ngrams range value 2.5" in message
    assert "early_stopping range value 'maybe'" in message
    assert "shuffle range values 'yes' and True are both True" in message


def test_kind_mismatch() -> None:
    message = problems_of(ranges("epochs=1:20:float", "backend=1:3", "shuffle=0:1",
                                 "mode=0.1:0.5"))
    assert "epochs is an integer hyperparameter" in message
    assert "backend is a categorical hyperparameter" in message
    assert "shuffle is a boolean hyperparameter" in message
    assert "mode is a categorical hyperparameter" in message
    # An integer range on a continuous hyperparameter is fine.
    validate_ranges(ranges("learning_rate=1:5"), BLAZINGTEXT)


def test_every_problem_in_one_message_and_empty_ranges() -> None:
    message = problems_of(ranges("foo=1:2", "epochs=1:2000", "vector_dim=[7,7.5]"),
                          static={"foo": 1})
    assert message.count(";") == 3
    with pytest.raises(ValidationError, match="no hyperparameter ranges"):
        validate_ranges({}, BLAZINGTEXT)
    with pytest.raises(ValidationError, match="no hyperparameter ranges"):
        validate_ranges({}, None)


def test_scripts_accept_any_names() -> None:
    validate_ranges(ranges("anything=1:2", "other=[a,b]"), None, {"fixed": 1})
    with pytest.raises(ValidationError, match="anything is given both"):
        validate_ranges(ranges("anything=1:2"), None, {"anything": 1}, owner="script")


# --------------------------------------------------------------------------- Optuna glue


def test_to_distributions() -> None:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    dists = to_distributions(ranges(
        "lin=0.1:0.5", "log=0.01:1.0:log", "auto=1e-4:1e-1", "rev=0.9:0.999:reverselog",
        "n=1:10", "nlog=1:1000", "nlin=1:1000:linear", "cat=[a,2,true]",
    ))
    assert dists["lin"] == FloatDistribution(0.1, 0.5)
    assert dists["log"] == FloatDistribution(0.01, 1.0, log=True)
    assert dists["auto"] == FloatDistribution(1e-4, 1e-1, log=True)
    assert dists["rev"] == FloatDistribution(1 - 0.999, 1 - 0.9, log=True)
    assert dists["n"] == IntDistribution(1, 10)
    assert dists["nlog"] == IntDistribution(1, 1000, log=True)
    assert dists["nlin"] == IntDistribution(1, 1000)
    assert dists["cat"] == CategoricalDistribution(["a", 2, True])


def test_sampled_values_decode_into_ranges_and_encode_back() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rngs = ranges("rev=0.9:0.999:reverselog", "rev0=0:0.5:reverselog",
                  "lr=0.001:1.0:log", "x=-1:1", "n=1:1000:log", "k=2:4", "cat=[a,2,2.5,true]")
    dists = to_distributions(rngs)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=7))
    seen_cat = set()
    for _ in range(200):
        trial = study.ask(dists)
        internal = trial.params
        values = decode(rngs, internal)
        for name, rng in rngs.items():
            if isinstance(rng, CategoricalParameter):
                assert values[name] in rng.values
                seen_cat.add(repr(values[name]))
            else:
                assert rng.min_value <= values[name] <= rng.max_value, (name, values[name])
        assert isinstance(values["k"], int) and isinstance(values["lr"], float)
        assert contains(rngs, values)
        back = encode(rngs, values)
        # Exact for all but reverse-log ranges, where 1 - (1 - z) may differ in the last bit.
        assert back["rev"] == pytest.approx(internal["rev"], rel=1e-12)
        assert back["rev0"] == pytest.approx(internal["rev0"], rel=1e-12)
        assert {k: v for k, v in back.items() if not k.startswith("rev")} == {
            k: v for k, v in internal.items() if not k.startswith("rev")}
        for name, dist in dists.items():
            assert dist._contains(dist.to_internal_repr(back[name]))
        again = decode(rngs, back)
        assert again["rev"] == pytest.approx(values["rev"], rel=1e-12)
        assert {k: v for k, v in again.items() if not k.startswith("rev")} == {
            k: v for k, v in values.items() if not k.startswith("rev")}
        study.tell(trial, 0.0)
    assert seen_cat == {"'a'", "2", "2.5", "True"}


def test_reverse_log_samples_crowd_near_one() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rngs = ranges("beta=0.0:0.999:reverselog")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    betas = [decode(rngs, study.ask(to_distributions(rngs)).params)["beta"] for _ in range(200)]
    assert sum(b > 0.9 for b in betas) > 100  # linear sampling would give ~20


def test_encoded_trials_feed_a_study() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rngs = ranges(*ISSUE_EXAMPLE, "beta=0.5:0.99:reverselog")
    dists = to_distributions(rngs)
    study = optuna.create_study()
    for values in (
        {"learning_rate": 0.01, "word_ngrams": 1, "vector_dim": 50, "epochs": 20, "beta": 0.99},
        {"learning_rate": "1.0", "word_ngrams": "3", "vector_dim": "200", "epochs": 1.0,
         "beta": 0.5, "mode": "supervised"},
    ):
        params = encode(rngs, values)
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists,
                                                  value=0.5))
    assert decode(rngs, study.trials[0].params) == {
        "learning_rate": 0.01, "word_ngrams": 1, "vector_dim": 50, "epochs": 20, "beta": 0.99}
    assert decode(rngs, study.trials[1].params) == {
        "learning_rate": 1.0, "word_ngrams": 3, "vector_dim": 200, "epochs": 1, "beta": 0.5}


def test_encode_rejects_values_outside_ranges() -> None:
    rngs = ranges(*ISSUE_EXAMPLE)
    good = {"learning_rate": 0.1, "word_ngrams": 2, "vector_dim": 100, "epochs": 10}
    assert contains(rngs, good)
    assert contains(rngs, {**good, "buckets": 10})  # extra keys are ignored
    for bad in ({**good, "learning_rate": 2.0}, {**good, "word_ngrams": 2.5},
                {**good, "vector_dim": 150}, {**good, "epochs": "many"},
                {**good, "vector_dim": True},
                {k: v for k, v in good.items() if k != "epochs"}):
        assert not contains(rngs, bad)
    with pytest.raises(ValidationError) as info:
        encode(rngs, {"learning_rate": 2.0, "word_ngrams": 2.5, "vector_dim": 150})
    message = str(info.value)
    assert "learning_rate=2.0 is outside the range 0.01..1.0" in message
    assert "word_ngrams=2.5 is not an integer" in message
    assert "vector_dim=150 is not one of [50, 100, 200]" in message
    assert "epochs has no value" in message


def test_decode_needs_every_range() -> None:
    with pytest.raises(ValidationError, match="no sampled value for word_ngrams"):
        decode(ranges(*ISSUE_EXAMPLE), {"learning_rate": 0.1, "vector_dim": 50, "epochs": 1})


def test_grid_space_and_size() -> None:
    rngs = ranges("word_ngrams=1:3", "vector_dim=[50,100,200]", "epochs=5:5", "b=[true,false]")
    assert grid_space(rngs) == {"word_ngrams": [1, 2, 3], "vector_dim": [50, 100, 200],
                                "epochs": [5], "b": [True, False]}
    assert grid_size(rngs) == 18
    assert grid_size({}) == 1
    with pytest.raises(ValidationError) as info:
        grid_space(ranges(*ISSUE_EXAMPLE))
    assert str(info.value) == (
        "Grid search needs categorical or integer ranges; learning_rate is continuous")
    with pytest.raises(ValidationError, match="learning_rate, x are continuous"):
        grid_size(ranges(*ISSUE_EXAMPLE, "x=0.1:0.2"))
    huge = ranges("a=1:1000", "b=1:1000")
    assert grid_size(huge) == 1_000_000 > MAX_GRID_SIZE
    with pytest.raises(ValidationError, match="too large"):
        grid_space(huge)


def test_grid_space_drives_optuna_grid_sampler() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rngs = ranges("word_ngrams=1:2", "vector_dim=[50,100,200]")
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid_space(rngs), seed=0))
    seen = set()

    def objective(trial: optuna.Trial) -> float:
        params = {"word_ngrams": trial.suggest_int("word_ngrams", 1, 2),
                  "vector_dim": trial.suggest_categorical("vector_dim", [50, 100, 200])}
        assert trial.distributions == to_distributions(rngs)
        seen.add(tuple(sorted(decode(rngs, params).items())))
        return 0.0

    study.optimize(objective, n_trials=grid_size(rngs) + 5)  # the sampler stops at the end
    assert len(study.trials) == len(seen) == 6


# --------------------------------------------------------------------------- JSON


def test_json_round_trip() -> None:
    rngs = ranges(*ISSUE_EXAMPLE, "beta=0:0.9:reverselog", "mixed=[a,2,2.5,true,'3']",
                  "auto=1:5:float")
    data = ranges_to_json(rngs)
    assert data["word_ngrams"] == {"type": "Integer", "min_value": 1, "max_value": 3,
                                   "scaling": "Auto"}
    assert data["vector_dim"] == {"type": "Categorical", "values": [50, 100, 200]}
    text = json.dumps(data)
    back = ranges_from_json(json.loads(text))
    assert back == rngs
    mixed = back["mixed"]
    assert isinstance(mixed, CategoricalParameter)
    assert [type(v) for v in mixed.values] == [str, int, float, bool, str]
    assert isinstance(back["auto"], ContinuousParameter)
    # Minimal JSON (defaults left out) reads too.
    assert ranges_from_json({"e": {"type": "Integer", "min_value": 1, "max_value": 3}}) == {
        "e": IntegerParameter(min_value=1, max_value=3)}


@pytest.mark.parametrize("data, message", [
    ({"e": {"type": "Real", "min_value": 1, "max_value": 3}}, "invalid range for e"),
    ({"e": {"type": "Integer", "min_value": 3, "max_value": 1}}, "inverted range"),
    ({"e": {"type": "Integer", "min_value": 1, "max_value": 3, "scaling": "ReverseLogarithmic"}},
     "scaling"),
    ({"e": {"type": "Categorical", "values": []}}, "at least one value"),
    ({"e": {"type": "Continuous", "min_value": 1, "max_value": 3, "extra": 1}}, "extra"),
    ({"": {"type": "Categorical", "values": [1]}}, "name"),
    ([1, 2], "must be an object"),
])
def test_json_errors(data: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ranges_from_json(data)
