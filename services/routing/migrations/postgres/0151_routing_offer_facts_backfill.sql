-- Offers made before they carried facts get those of their decision (decisions stored before
-- facts were kept have none to give). Touches only offers still without facts.
UPDATE routing_offer AS o SET
    needs = COALESCE((d.facts::jsonb -> 'needs')::text, ''),
    preferred_language = COALESCE(d.facts::jsonb ->> 'preferred_language', ''),
    is_minor = CASE WHEN d.facts::jsonb ->> 'is_minor' = 'true' THEN 1 ELSE 0 END,
    age_years = (d.facts::jsonb ->> 'age_years')::integer
FROM routing_decision AS d
WHERE d.decision_id = o.decision_id AND d.facts <> '' AND o.needs = '';
