-- Offers made before they carried facts get those of their decision (decisions stored before
-- facts were kept have none to give). Touches only offers still without facts.
UPDATE routing_offer SET
    needs = COALESCE(
        (SELECT json_extract(d.facts, '$.needs') FROM routing_decision AS d WHERE d.decision_id = routing_offer.decision_id),
        ''),
    preferred_language = COALESCE(
        (SELECT json_extract(d.facts, '$.preferred_language') FROM routing_decision AS d
         WHERE d.decision_id = routing_offer.decision_id),
        ''),
    is_minor = COALESCE(
        (SELECT json_extract(d.facts, '$.is_minor') FROM routing_decision AS d WHERE d.decision_id = routing_offer.decision_id),
        0),
    age_years = (SELECT json_extract(d.facts, '$.age_years') FROM routing_decision AS d
                 WHERE d.decision_id = routing_offer.decision_id)
WHERE needs = ''
  AND EXISTS (SELECT 1 FROM routing_decision AS d WHERE d.decision_id = routing_offer.decision_id AND d.facts <> '');
