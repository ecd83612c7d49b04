-- Every LLM call with tokens must find a price for its model on the day it ran. Returns
-- each model and day without one: add a row to llm_model_prices.
select
    coalesce(gen_ai_request_model, '(no gen_ai.request.model)') as llm_model,
    date_day,
    count(*) as unpriced_calls,
    sum(input_tokens + output_tokens) as unpriced_tokens
from {{ ref('int_span_days_priced') }}
where not llm_price_found
group by all
